// encodeId: ids become one portable, lowercase path component, injectively;
// decodeId tells the id back from a name that is not hashed.
import { describe, expect, it } from "vitest";
import { decodeId, encodeId } from "../src/encode-id.js";

describe("encodeId", () => {
  it.each([
    ["run", "run"],
    ["Run", "%52un"],
    ["my_flow-v1.2", "my_flow-v1%2e2"],
    ["a/b", "a%2fb"],
    ["日", "%u65e5"],
    ["", ""],
  ])("encodes %j as %j", (id, encoded) => {
    expect(encodeId(id)).toBe(encoded);
  });

  it("never yields the same name for two ids, even ignoring case", () => {
    const ids = [
      "Run",
      "run",
      "RUN",
      "a.b",
      "a%2eb",
      "a%2Eb",
      "\uD800",
      "\uFFFD",
      "ab",
      "a\u0000b",
    ];
    for (let i = 0; i < 2000; i++) ids.push(`id-${i}`, `ID-${i}`, "x".repeat(i % 400) + i);
    const names = ids.map((id) => encodeId(id).toLowerCase());
    expect(new Set(names).size).toBe(new Set(ids).size);
  });

  it("hashes long ids into a bounded name that no short id can take", () => {
    const long = encodeId("X".repeat(300));
    expect(long.length).toBeLessThanOrEqual(160);
    expect(long).toMatch(/%h[0-9a-f]{64}$/);
    expect(encodeId("X".repeat(300))).toBe(long);
    expect(encodeId(`${"X".repeat(299)}Y`)).not.toBe(long);
    for (const id of ["%h", "a%hb", "%68"]) expect(encodeId(id)).not.toContain("%h");
  });
});

describe("decodeId", () => {
  it("gives back every id whose name is not hashed", () => {
    for (const id of [
      "run",
      "Run",
      "my_flow-v1.2",
      ".a",
      "..a",
      "CON",
      "X".repeat(53),
      "日-\u0000",
    ]) {
      expect(decodeId(encodeId(id))).toBe(id);
    }
  });

  it("cannot tell a hashed long id, or a name encodeId never makes", () => {
    expect(decodeId(encodeId("X".repeat(128)))).toBeUndefined();
    for (const name of ["%2E", "%u0041", "A", "a.b", "%zz", "%u00e9x%"]) {
      expect(decodeId(name), name).toBeUndefined();
    }
  });
});
