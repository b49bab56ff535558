// assertJsonSerializable: which values JSON cannot hold, and the path it names for each.
import { describe, expect, it } from "vitest";
import { assertJsonSerializable, NotSerializableError } from "../src/index.js";
import { MAX_JSON_DEPTH } from "../src/json-state.js";

/** The NotSerializableError thrown for `value`, or a failed expectation if none was. */
function rejection(value: unknown, rootPath?: string): NotSerializableError {
  try {
    assertJsonSerializable(value, rootPath);
  } catch (error) {
    expect(error).toBeInstanceOf(NotSerializableError);
    return error as NotSerializableError;
  }
  throw new Error("expected assertJsonSerializable to throw");
}

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

describe("assertJsonSerializable", () => {
  it.each([
    ["a Date", { user: { createdAt: new Date(0) } }, "shared.user.createdAt", "Date"],
    ["undefined in an array", { list: [1, 2, undefined] }, "shared.list[2]", "undefined"],
    ["a function under a key that needs quoting", { "a b": () => 1 }, 'shared["a b"]', "function"],
    ["a bigint", { big: 10n }, "shared.big", "bigint"],
    ["a symbol", { tag: Symbol("t") }, "shared.tag", "symbol"],
    ["NaN", { ratio: Number.NaN }, "shared.ratio", "NaN"],
    [
      "Infinity",
      { items: [{ score: Number.POSITIVE_INFINITY }] },
      "shared.items[0].score",
      "Infinity",
    ],
    ["-Infinity", { low: Number.NEGATIVE_INFINITY }, "shared.low", "-Infinity"],
    ["a Map", { index: new Map([["a", 1]]) }, "shared.index", "Map"],
    ["a Set", { tags: new Set(["a"]) }, "shared.tags", "Set"],
    ["a class instance", { origin: new Point(0, 0) }, "shared.origin", "Point"],
    ["a RegExp", { pattern: /a/ }, "shared.pattern", "RegExp"],
    ["a key starting with a digit", { "1st": new Date(0) }, 'shared["1st"]', "Date"],
  ])("rejects %s and names its path", (_label, value, path, kind) => {
    const error = rejection(value);

    expect(error.code).toBe("NOT_SERIALIZABLE");
    expect(error.path).toBe(path);
    expect(error.valueType).toContain(kind);
    expect(error.message).toContain(path);
  });

  it("names the first offending value under the root path it is given", () => {
    expect(rejection({ when: new Date(0) }, "initialState").path).toBe("initialState.when");
  });

  it("rejects a non-JSON root value under the root path itself", () => {
    expect(rejection(new Date(0)).path).toBe("shared");
    expect(rejection(undefined, "input").path).toBe("input");
  });

  it("rejects an object that contains itself, naming where the cycle closes", () => {
    const loop: Record<string, unknown> = { name: "loop" };
    loop.self = loop;

    const error = rejection({ loop });

    expect(error.path).toBe("shared.loop.self");
    expect(error.valueType).toContain("circular");
  });

  it("rejects a cycle through an array deeper down", () => {
    const parent: Record<string, unknown> = {};
    parent.children = [{ name: "child", parent }];

    expect(rejection({ tree: parent }).path).toBe("shared.tree.children[0].parent");
  });

  // A hole reads back as null: a regression test for a TypeError the check once threw here.
  it("rejects a hole in a sparse array as undefined in an array", () => {
    // biome-ignore lint/suspicious/noSparseArray: the hole is what is tested
    const error = rejection({ list: [1, , 3] });

    expect(error.path).toBe("shared.list[1]");
  });

  it("accepts plain JSON values of every kind", () => {
    expect(() =>
      assertJsonSerializable({
        text: "héllo 🙂",
        count: -1.5,
        zero: 0,
        yes: true,
        nothing: null,
        list: [1, "two", [3], { four: 4 }],
        nested: { a: { b: { c: [] } } },
      }),
    ).not.toThrow();
  });

  it("accepts undefined object properties, which JSON omits and reads back the same way", () => {
    expect(() =>
      assertJsonSerializable({ missing: undefined, nested: { also: undefined } }),
    ).not.toThrow();
  });

  it("accepts objects without a prototype", () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare.value = 1;

    expect(() => assertJsonSerializable({ bare })).not.toThrow();
  });

  it("accepts one object referenced from several places when there is no cycle", () => {
    const address = { city: "Lyon" };
    const state = {
      home: address,
      work: address,
      history: [address, address],
      deep: { again: address },
    };

    expect(() => assertJsonSerializable(state)).not.toThrow();
  });

  it("accepts an own __proto__ key and still checks what is under it", () => {
    const state: Record<string, unknown> = JSON.parse(
      '{"__proto__": {"admin": true}, "name": "x"}',
    );
    expect(Object.hasOwn(state, "__proto__")).toBe(true);

    expect(() => assertJsonSerializable(state)).not.toThrow();

    // Read as an own key: `state.__proto__` would name the prototype accessor.
    const protoKey = "__proto__";
    (state[protoKey] as Record<string, unknown>).since = new Date(0);
    expect(rejection(state).path).toBe("shared.__proto__.since");
  });

  it(`accepts ${MAX_JSON_DEPTH} levels of nesting, the most JSON is trusted with`, () => {
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 1; i < MAX_JSON_DEPTH; i++) deep = { child: deep };
    let deepList: unknown[] = [1];
    for (let i = 1; i < MAX_JSON_DEPTH; i++) deepList = [deepList];

    expect(() => assertJsonSerializable(deep)).not.toThrow();
    expect(() => assertJsonSerializable(deepList)).not.toThrow();
  });

  it("refuses one level more, and 10,000 levels, naming the path without overflowing the stack", () => {
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < MAX_JSON_DEPTH; i++) deep = { child: deep };
    // The innermost object is level MAX_JSON_DEPTH + 1.
    expect(rejection(deep).path === `shared${".child".repeat(MAX_JSON_DEPTH)}`).toBe(true);
    for (let i = 0; i < 10_000; i++) deep = { child: deep };
    const error = rejection({ deep });
    expect(error.valueType).toContain("levels deep");
    expect(error.message.length).toBeLessThan(600);
  });

  it.each([
    [
      "a symbol-keyed property",
      () => ({ a: { [Symbol("s")]: 1 } }),
      "shared.a[Symbol(s)]",
      "symbol",
    ],
    [
      "a named property of an array",
      () => ({ list: Object.assign([1, 2], { extra: true }) }),
      "shared.list.extra",
      "array",
    ],
    [
      "a non-enumerable property",
      () => ({ a: Object.defineProperty({}, "hidden", { value: 1, enumerable: false }) }),
      "shared.a.hidden",
      "non-enumerable",
    ],
  ])("refuses %s, which JSON would drop silently", (_label, make, path, kind) => {
    const error = rejection(make());
    expect(error.path).toBe(path);
    expect(error.valueType).toContain(kind);
  });

  it("accepts sparse-free arrays and plain objects with undefined properties, which JSON keeps as read back", () => {
    expect(() =>
      assertJsonSerializable({ a: [1, [2, { b: undefined }]], c: undefined }),
    ).not.toThrow();
  });
});
