import { InvalidIdError } from "./errors.js";

/** Longest workflow, run, node or request id, in characters. */
export const MAX_ID_LENGTH = 128;

/** The id alphabet. The whole rule is `assertValidId`: this pattern plus the refused names. */
export const ID_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;

/**
 * Names inside the alphabet that are still refused: `.` and `..` name
 * directories, and `__proto__` as a key of a plain object hits the prototype
 * setter, so a node status or an answer stored under it would be silently lost
 * by any JavaScript that handles the journal (ours, a third party's, a
 * dashboard's).
 */
const REFUSED_IDS: ReadonlyMap<string, string> = new Map([
  [".", "it names a directory"],
  ["..", "it names a directory"],
  ["__proto__", "it is the prototype key of JavaScript objects"],
]);

const ADVICE = `Use 1-${MAX_ID_LENGTH} letters, digits, '_', '.' or '-' (not '.', '..' or '__proto__').`;

/** Why `value` is not a valid id, or null when it is. */
function idProblem(value: unknown): string | null {
  if (typeof value !== "string") return `expected a string, got ${typeof value}`;
  if (value.length === 0) return "it is empty";
  if (value.length > MAX_ID_LENGTH) return `it is ${value.length} characters long`;
  const refused = REFUSED_IDS.get(value);
  if (refused) return refused;
  if (!ID_PATTERN.test(value)) return "it contains a character outside [A-Za-z0-9_.-]";
  return null;
}

/**
 * The one id rule, for workflow, run and node ids. Ids end up in file names,
 * keys and URLs, so they are restricted to a portable alphabet. The engine and
 * every adapter apply it on every call, so an id is accepted or refused alike
 * on every store; adapters still encode ids, so a store stays safe from a
 * caller that bypasses this check.
 */
export function assertValidId(value: unknown, kind = "id"): asserts value is string {
  const problem = idProblem(value);
  if (problem !== null) throw new InvalidIdError(kind, value, problem, ADVICE);
}

/** The id rule on a run's two ids, as every contract method that names a run applies it first. */
export function assertRunIds(workflowId: unknown, runId: unknown): void {
  assertValidId(workflowId, "workflowId");
  assertValidId(runId, "runId");
}

export function isValidId(value: unknown): value is string {
  return idProblem(value) === null;
}

const NUMBERED_REQUEST = /^(.+)#([2-9]|[1-9][0-9]+)$/;

/**
 * Request ids (the keys of `step(input)`) follow the id rule, or are a node id
 * followed by `#n` (n ≥ 2) as the engine names a node's second and later
 * questions.
 */
export function assertValidRequestId(value: unknown, kind = "request id"): asserts value is string {
  const numbered = typeof value === "string" ? NUMBERED_REQUEST.exec(value) : null;
  const problem = idProblem(numbered ? numbered[1] : value);
  if (problem !== null) {
    throw new InvalidIdError(
      kind,
      value,
      problem,
      `${ADVICE} A node's further questions may add '#2', '#3', …`,
    );
  }
}
