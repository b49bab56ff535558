import { InvalidIdError } from "./errors.js";

const ID_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;

/**
 * Workflow, run and node ids end up in file names, keys and URLs, so they are
 * restricted to a portable alphabet. Adapters still encode them: this check
 * protects users of the engine, encoding protects the store from direct calls.
 */
export function assertValidId(value: unknown, kind = "id"): asserts value is string {
  if (typeof value !== "string") {
    throw new InvalidIdError(kind, value, `expected a string, got ${typeof value}`);
  }
  if (value.length === 0) throw new InvalidIdError(kind, value, "it is empty");
  if (value.length > 128) {
    throw new InvalidIdError(kind, value, `it is ${value.length} characters long`);
  }
  if (value === "." || value === "..") {
    throw new InvalidIdError(kind, value, "it names a directory");
  }
  if (!ID_PATTERN.test(value)) {
    throw new InvalidIdError(kind, value, "it contains a character outside [A-Za-z0-9_.-]");
  }
}

export function isValidId(value: unknown): value is string {
  try {
    assertValidId(value);
    return true;
  } catch {
    return false;
  }
}
