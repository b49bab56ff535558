/**
 * What a hostile case may end in: a result that round-trips exactly, a typed
 * WorkflowError (a string `code` from ERROR_CODES), or a TypeError/RangeError
 * for programmer misuse. Anything else is a violation of the property.
 */
import { isDeepStrictEqual } from "node:util";
import { ERROR_CODES } from "@wf/core";
import { describeError, errorCode } from "../error-text.js";

/** A property does not hold; fast-check reports the case that produced it. */
export class Violation extends Error {
  override name = "Violation";
}

export function violated(message: string): never {
  throw new Violation(message);
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Runs `work`, catching what it throws synchronously or rejects with. */
export async function attempt<T>(work: () => T | Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    return { ok: false, error };
  }
}

export function isTyped(error: unknown): boolean {
  const code = errorCode(error);
  return (
    error instanceof Error &&
    code !== undefined &&
    (ERROR_CODES as readonly string[]).includes(code)
  );
}

export function isMisuse(error: unknown): boolean {
  return (error instanceof TypeError || error instanceof RangeError) && !isTyped(error);
}

function ended<T>(outcome: Outcome<T>): string {
  return outcome.ok ? "succeeded" : `failed with ${describeError(outcome.error)}`;
}

/** The value of a successful outcome; a violation otherwise. */
export function expectOk<T>(outcome: Outcome<T>, what: string): T {
  if (!outcome.ok) violated(`${what} ${ended(outcome)}, expected it to succeed`);
  return outcome.value;
}

/** The outcome must be an error with one of `codes`. */
export function expectCode(
  outcome: Outcome<unknown>,
  codes: readonly string[],
  what: string,
): void {
  const code = outcome.ok ? undefined : errorCode(outcome.error);
  if (outcome.ok || !isTyped(outcome.error) || !codes.includes(code as string)) {
    violated(`${what} ${ended(outcome)}, expected ${codes.join(" or ")}`);
  }
}

/** A failed outcome must be typed or misuse; returns whether it succeeded. */
export function succeededOrTyped(outcome: Outcome<unknown>, what: string): boolean {
  if (outcome.ok) return true;
  if (isTyped(outcome.error) || isMisuse(outcome.error)) return false;
  violated(`${what} failed with an untyped ${describeError(outcome.error)}`);
}

/** Two JSON-faithful values are the same when their JSON texts are. */
export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Equal as JSON data, whatever the order of object keys (for metadata a store assembles itself). */
export function equalData(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)));
}

/** A short, safe rendering of a value for a violation message. */
export function show(value: unknown): string {
  let text: string;
  try {
    text =
      typeof value === "string"
        ? JSON.stringify(value)
        : typeof value === "bigint"
          ? `${value}n`
          : (JSON.stringify(value) ?? String(value));
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > 120 ? `${text.slice(0, 120)}… (${text.length} characters)` : text;
}
