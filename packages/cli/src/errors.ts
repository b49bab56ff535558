import { ERROR_CODES, type WorkflowErrorCode } from "@wf/core";
import { maskPassword } from "@wf/core/storage";

/** Exit codes of `wf`: documented in the README, stable. */
export const EXIT_OK = 0;
export const EXIT_OPERATIONAL = 1;
export const EXIT_USAGE = 2;

/** A mistake in how `wf` was called: exit code 2, and the message says how to call it. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A failure that is not the store's or the caller's fault alone (a refused action, a conflict found). */
export class OperationalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OperationalError";
  }
}

/** What to print and which exit code to use for an error a command threw. */
export interface Explained {
  message: string;
  exitCode: number;
  code: string | null;
}

/** What to do next, for each error code a command can meet. */
const NEXT_STEP: Record<string, string> = {
  RUN_NOT_FOUND: "List the workflow's runs with `wf runs <workflow>`.",
  STEP_NOT_FOUND: "See the run's steps with `wf steps <workflow> <run> --all`.",
  RUN_EXISTS: "Pick another run id, or delete the existing run first with `wf delete`.",
  STEP_CONFLICT: "Another writer advanced the run meanwhile; run the command again.",
  INCOMPATIBLE_STATE:
    "Change the definition so those nodes exist with the same types, or pick an earlier step with --from.",
  INVALID_ID:
    "Ids are 1 to 128 characters from A-Z a-z 0-9 _ . - (not `.`, `..` or `__proto__`); check the spelling with `wf workflows` or `wf runs <workflow>`.",
  CORRUPT_RECORD:
    "The record is damaged: see the adapter's README (repairing or removing damaged runs); `wf delete` removes a damaged run.",
  NOT_SERIALIZABLE: "Give JSON values only (numbers, strings, booleans, null, arrays, objects).",
  STORAGE_UNAVAILABLE:
    "Check that the server named by --store (or WF_STORE) is running and reachable, then run the command again.",
  STORAGE_MISCONFIGURED:
    "Fix the store named by --store (or WF_STORE), or install what the message names.",
  STORAGE_CLOSED: "This is a bug in wf: please report it.",
  INVALID_CURSOR: "Start the listing again without a cursor.",
  UNEXPECTED_INPUT:
    "See the pending question and its request id with `wf show <workflow> <run>`, and answer that id.",
};

/** Error codes that mean the command line itself was wrong. */
const USAGE_CODES = new Set(["INVALID_ID", "INVALID_CURSOR"]);

export function explain(error: unknown): Explained {
  if (error instanceof UsageError) {
    return { message: error.message, exitCode: EXIT_USAGE, code: null };
  }
  if (error instanceof OperationalError) {
    return { message: error.message, exitCode: EXIT_OPERATIONAL, code: null };
  }
  const code = workflowErrorCode(error);
  if (code !== null) {
    const { message } = error as Error;
    const next = NEXT_STEP[code];
    return {
      message: maskPassword(next ? `${message}\n${next}` : message),
      exitCode: USAGE_CODES.has(code) ? EXIT_USAGE : EXIT_OPERATIONAL,
      code,
    };
  }
  // openStore and the adapters refuse a malformed URL or option with a TypeError that says the expected form.
  if (error instanceof TypeError || error instanceof RangeError) {
    return { message: maskPassword(error.message), exitCode: EXIT_USAGE, code: null };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    message: `${maskPassword(message)}\nThis is unexpected; run again with WF_DEBUG=1 to see the stack, and report it if it persists.`,
    exitCode: EXIT_OPERATIONAL,
    code: null,
  };
}

/** The stable code of a WorkflowError, also when it comes from another copy of @wf/core. */
function workflowErrorCode(error: unknown): WorkflowErrorCode | null {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && ERROR_CODES.includes(code as WorkflowErrorCode)
    ? (code as WorkflowErrorCode)
    : null;
}
