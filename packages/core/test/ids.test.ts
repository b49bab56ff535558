// User-supplied id validation: the portable alphabet, length limit and directory names.
import { describe, expect, it } from "vitest";
import { assertValidId, InvalidIdError, isValidId } from "../src/index.js";

describe("assertValidId", () => {
  it.each([
    "a",
    "Z",
    "0",
    "greeter",
    "my_workflow-v1.2",
    "20240101_000000_000_0123456789ab",
    "...",
    ".hidden",
    "a..b",
    "-",
    "_",
    "x".repeat(128),
  ])("accepts %j", (id) => {
    expect(() => assertValidId(id)).not.toThrow();
    expect(isValidId(id)).toBe(true);
  });

  it.each([
    ["the empty string", ""],
    ["a single dot", "."],
    ["two dots", ".."],
    ["a parent path", "../x"],
    ["a slash", "a/b"],
    ["a backslash", "a\\b"],
    ["129 characters", "x".repeat(129)],
    ["500 characters", "x".repeat(500)],
    ["accented letters", "café"],
    ["CJK letters", "日本"],
    ["an emoji", "run🙂"],
    ["a zero-width space", "a\u200bb"],
    ["a space", "a b"],
    ["a leading space", " a"],
    ["a null byte", "a\0b"],
    ["a trailing newline", "abc\n"],
    ["a tab", "a\tb"],
    ["a wildcard", "a*"],
    ["a colon", "a:b"],
  ])("rejects %s with INVALID_ID", (_label, id) => {
    let thrown: unknown;
    try {
      assertValidId(id, "workflowId");
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidIdError);
    expect((thrown as InvalidIdError).code).toBe("INVALID_ID");
    expect((thrown as InvalidIdError).kind).toBe("workflowId");
    expect((thrown as InvalidIdError).value).toBe(id);
    expect((thrown as Error).message).toContain("workflowId");
    expect(isValidId(id)).toBe(false);
  });

  it.each([
    ["a number", 42],
    ["null", null],
    ["undefined", undefined],
    ["an object", { id: "a" }],
    ["an array", ["a"]],
    ["a boolean", true],
    ["a String object", new String("a")],
  ])("rejects %s, which is not a string, with INVALID_ID", (_label, id) => {
    expect(() => assertValidId(id)).toThrow(InvalidIdError);
    expect(isValidId(id)).toBe(false);
  });
});
