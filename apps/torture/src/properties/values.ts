/**
 * The hostile values the properties draw from: ids, step numbers, cursors,
 * limits and states, with the oracle that says which states JSON holds
 * faithfully (those must round-trip exactly; the rest must be refused).
 */
import fc from "fast-check";

/** Strings that have broken id handling somewhere: traversal, wildcards, SQL, case folding, prototype keys. */
const SPECIAL_STRINGS = [
  "",
  ".",
  "..",
  "...",
  "__proto__",
  "constructor",
  "prototype",
  "hasOwnProperty",
  " ",
  "a b",
  "a/b",
  "../x",
  "..\\x",
  "a\\b",
  "CON",
  "nul.txt",
  "%2e",
  "%2e%2e",
  "a%2Fb",
  "*",
  "?",
  "[a]",
  "{tag}",
  "a:b",
  "'; DROP TABLE runs; --",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "\udfffa",
  "é",
  "🙂",
  "İ",
  "ß",
  "a".repeat(128),
  "A".repeat(128),
  "a".repeat(129),
  "x".repeat(1025),
];

/** Ids, keys and cursors: arbitrary unicode (lone surrogates too), valid ids, the specials, long strings. */
export function hostileString(near: readonly string[] = []): fc.Arbitrary<string> {
  const variants = near.flatMap((id) => [
    id.toUpperCase(),
    `${id}/`,
    `../${id}`,
    `${id}\u0000`,
    `${id}.`,
    `${id} `,
    `${id}*`,
    encodeURIComponent(`${id}/x`),
  ]);
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 24 }) },
    { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 12 }) },
    { weight: 3, arbitrary: fc.stringMatching(/^[A-Za-z0-9_.-]{1,16}$/) },
    { weight: 3, arbitrary: fc.constantFrom(...SPECIAL_STRINGS, ...variants) },
    { weight: 1, arbitrary: fc.string({ unit: "binary-ascii", minLength: 120, maxLength: 140 }) },
    { weight: 1, arbitrary: fc.constantFrom(1024, 100_000).map((n) => "x".repeat(n)) },
  );
}

/** Step numbers and things passed as one by mistake. */
export const hostileStep: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: -3, max: 8 }),
  fc.constantFrom(
    Number.NaN,
    Number.POSITIVE_INFINITY,
    -1.5,
    1.5,
    -0,
    2 ** 53,
    2 ** 31,
    "1",
    null,
    {},
  ),
);

/** Listing limits. */
export const hostileLimit: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(undefined),
  fc.integer({ min: -2, max: 1500 }),
  fc.constantFrom(Number.NaN, 1.5, Number.POSITIVE_INFINITY, "10", null, 0),
);

/** Listing cursors: absent, forged, or not even strings. */
export const hostileCursor: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, undefined),
  hostileString(),
  fc.base64String({ maxLength: 40 }),
  fc.constantFrom(0, {}, [], true),
);

/** A label for a value JSON cannot hold, and a fresh instance (cycles must be new each time). */
type Unfaithful = [string, () => unknown];

const UNFAITHFUL: Unfaithful[] = [
  ["undefined in an array", () => [1, undefined]],
  ["a hole in an array", () => Object.assign(new Array(3), { 0: 1, 2: 2 })],
  ["a Date", () => new Date(0)],
  ["a bigint", () => 10n],
  ["NaN", () => Number.NaN],
  ["Infinity", () => Number.POSITIVE_INFINITY],
  ["a function", () => () => 1],
  ["a symbol", () => Symbol("s")],
  ["a Map", () => new Map([[1, 2]])],
  ["a Set", () => new Set([1])],
  ["a boxed string", () => new String("x")],
  ["a class instance", () => new (class Point {})()],
  ["a toJSON method", () => ({ toJSON: () => 1 })],
  [
    "a cycle",
    () => {
      const node: Record<string, unknown> = { a: 1 };
      node.self = node;
      return node;
    },
  ],
  [
    "a cycle through an array",
    () => {
      const list: unknown[] = [];
      list.push({ list });
      return list;
    },
  ],
];

/** What JSON drops without a word: symbol keys, non-enumerable properties, extra properties on arrays. */
const SILENTLY_DROPPED: Unfaithful[] = [
  ["a symbol key", () => ({ kept: 1, [Symbol("k")]: 2 })],
  ["a non-enumerable property", () => Object.defineProperty({ kept: 1 }, "hidden", { value: 2 })],
  ["a property on an array", () => Object.assign([1, 2], { extra: 3 })],
];

/** Big and deep values JSON holds, which the stores must keep whole. */
const LARGE: [string, () => unknown][] = [
  ["1 MB of multi-byte text", () => "é🙂".repeat(350_000)],
  [
    "600 levels of nesting",
    () => {
      let value: unknown = "bottom";
      for (let i = 0; i < 600; i++) value = i % 2 ? [value] : { d: value };
      return value;
    },
  ],
  ["a __proto__ key", () => JSON.parse('{"__proto__":{"polluted":true},"x":1}')],
  ["a constructor key", () => ({ constructor: { prototype: 1 } })],
];

/** Wraps `inner` at one of a few depths, so the unfaithful part is not always at the top. */
function embed(inner: unknown, depth: number): unknown {
  if (depth === 0) return inner;
  if (depth === 1) return { v: inner };
  if (depth === 2) return [0, inner];
  return { nested: { list: [1, { deeper: inner }] } };
}

/** A state value: mostly JSON (unicode keys and strings), some unfaithful, some large. */
export function stateValue(): fc.Arbitrary<unknown> {
  const json = fc.jsonValue({ maxDepth: 4, stringUnit: "binary" });
  const pick = (table: Unfaithful[]) =>
    fc
      .tuple(fc.constantFrom(...table), fc.nat({ max: 3 }))
      .map(([[, make], depth]) => embed(make(), depth));
  return fc.oneof(
    { weight: 6, arbitrary: json },
    { weight: 1, arbitrary: fc.dictionary(hostileString(), json, { maxKeys: 4 }) },
    { weight: 3, arbitrary: pick(UNFAITHFUL) },
    { weight: 2, arbitrary: pick(SILENTLY_DROPPED) },
    { weight: 1, arbitrary: fc.constantFrom(...LARGE).map(([, make]) => make()) },
  );
}

/**
 * Whether JSON holds `value` faithfully: it reads back the same in JavaScript.
 * Plain objects (or null-prototype ones) and arrays without holes, finite
 * numbers, strings, booleans, null; an `undefined` object property counts as
 * absent, as the engine documents. Anything JSON would refuse, change or drop
 * (symbol keys, non-enumerable properties, extra array properties) does not.
 */
export function jsonFaithful(value: unknown, ancestors: Set<object> = new Set()): boolean {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value);
  if (typeof value !== "object") return false;
  if (ancestors.has(value)) return false;
  if (Object.getOwnPropertySymbols(value).length > 0) return false;
  const names = Object.getOwnPropertyNames(value);
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      if (names.length !== value.length + 1) return false; // holes or extra properties ("length" is one)
      return value.every((item) => item !== undefined && jsonFaithful(item, ancestors));
    }
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return false;
    return names.every((name) => {
      const descriptor = Object.getOwnPropertyDescriptor(value, name) as PropertyDescriptor;
      if (!descriptor.enumerable || !("value" in descriptor)) return false;
      return descriptor.value === undefined || jsonFaithful(descriptor.value, ancestors);
    });
  } finally {
    ancestors.delete(value);
  }
}
