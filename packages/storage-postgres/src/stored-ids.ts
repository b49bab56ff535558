import { InvalidIdError } from "@wf/core";

/** An unpaired UTF-16 surrogate: the UTF-8 sent to the server would replace it with U+FFFD. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Ids are stored verbatim in `text` columns and only ever sent as parameters,
 * so quotes, slashes, wildcards and SQL are harmless. Two strings `text`
 * cannot hold as given are refused instead: NUL, which PostgreSQL rejects,
 * and lone surrogates, which would silently become another id.
 */
const ADVICE = "Any other string is stored verbatim.";

export function assertStorableId(value: unknown, kind: string): asserts value is string {
  if (typeof value !== "string") {
    throw new InvalidIdError(kind, value, `expected a string, got ${typeof value}`, ADVICE);
  }
  if (value.includes("\u0000")) {
    throw new InvalidIdError(kind, value, "PostgreSQL text cannot hold the NUL character", ADVICE);
  }
  if (LONE_SURROGATE.test(value)) {
    throw new InvalidIdError(kind, value, "it contains an unpaired UTF-16 surrogate", ADVICE);
  }
}

export function isStorable(value: unknown): value is string {
  return typeof value === "string" && !value.includes("\u0000") && !LONE_SURROGATE.test(value);
}
