/**
 * Every error the engine or an adapter raises on purpose carries a stable
 * `code`. Messages may change between versions; codes may not. Programmer
 * mistakes (a duplicate node id, a non-function `when`) are plain
 * `TypeError`/`RangeError`s instead, because no caller should handle them.
 */
export const ERROR_CODES = [
  "RUN_NOT_FOUND",
  "STEP_NOT_FOUND",
  "RUN_EXISTS",
  "STEP_CONFLICT",
  "INCOMPATIBLE_STATE",
  "INVALID_ID",
  "CORRUPT_RECORD",
  "NOT_SERIALIZABLE",
  "STORAGE_UNAVAILABLE",
  "STORAGE_MISCONFIGURED",
  "STORAGE_CLOSED",
  "INVALID_CURSOR",
  "UNEXPECTED_INPUT",
  "STEP_ABORTED",
  "FORK_OF_CANCEL_STEP",
] as const;

export type WorkflowErrorCode = (typeof ERROR_CODES)[number];

/** Longest id quoted in full in a message; longer ones are cut so a hostile id cannot flood logs. */
const QUOTED_ID_LENGTH = 64;

/** An id as messages show it: JSON-quoted, cut after 64 characters with the full length said. */
export function quoteId(value: unknown): string {
  const text = String(value);
  if (text.length <= QUOTED_ID_LENGTH) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, QUOTED_ID_LENGTH))}… (${text.length} characters)`;
}

/** A value's path as messages show it: a path thousands of levels deep keeps its two ends. */
function shortPath(path: string): string {
  return path.length <= 200
    ? path
    : `${path.slice(0, 120)}…${path.slice(-60)} (${path.length} characters)`;
}

export abstract class WorkflowError extends Error {
  abstract readonly code: WorkflowErrorCode;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class RunNotFoundError extends WorkflowError {
  readonly code = "RUN_NOT_FOUND";
  constructor(
    readonly workflowId: string,
    readonly runId: string,
  ) {
    super(
      `Run ${quoteId(runId)} of workflow ${quoteId(workflowId)} does not exist in this storage.`,
    );
  }
}

export class StepNotFoundError extends WorkflowError {
  readonly code = "STEP_NOT_FOUND";
  constructor(
    readonly workflowId: string,
    readonly runId: string,
    readonly step: number,
    detail = "",
  ) {
    super(
      `Step ${step} of run ${quoteId(runId)} (workflow ${quoteId(workflowId)}) does not exist${detail}.`,
    );
  }
}

export class RunExistsError extends WorkflowError {
  readonly code = "RUN_EXISTS";
  constructor(
    readonly workflowId: string,
    readonly runId: string,
  ) {
    super(`Run ${quoteId(runId)} of workflow ${quoteId(workflowId)} already exists.`);
  }
}

/**
 * Another writer appended step `step` first. Nothing of this attempt was
 * stored; re-open the run (`WorkflowEngine.create({ runId })`) to continue
 * from the new head.
 */
export class StepConflictError extends WorkflowError {
  readonly code = "STEP_CONFLICT";
  constructor(
    readonly workflowId: string,
    readonly runId: string,
    readonly step: number,
    readonly headStep?: number,
  ) {
    super(
      `Step ${step} of run ${quoteId(runId)} could not be appended: ${
        headStep === undefined ? "another writer got there first" : `the run's head is ${headStep}`
      }. Nothing was written; open the run again to continue from its head.`,
    );
  }
}

export interface IncompatibleNode {
  nodeId: string;
  /** Status of the node at the step being resumed from. */
  status: string;
  /** Type recorded in the journal. */
  recordedType: string;
  /** Type in the current definition, or null when the node is missing. */
  currentType: string | null;
}

export class IncompatibleStateError extends WorkflowError {
  readonly code = "INCOMPATIBLE_STATE";
  constructor(
    readonly runId: string,
    readonly step: number,
    readonly nodes: IncompatibleNode[],
  ) {
    const problems = nodes.map((n) =>
      n.currentType === null
        ? `node "${n.nodeId}" (${n.recordedType}, ${n.status}) is missing from the current definition`
        : `node "${n.nodeId}" was ${n.recordedType} (${n.status}) but is now ${n.currentType}`,
    );
    super(
      `Cannot resume: run ${quoteId(runId)} at step ${step}: ${problems.join("; ")}. ` +
        "Restore these nodes in the definition, or resume from an earlier step where they had not run.",
    );
  }
}

export class InvalidIdError extends WorkflowError {
  readonly code = "INVALID_ID";
  /**
   * @param advice what to do instead; defaults to the engine's id rules. An
   * adapter refusing an id for its own reasons (a NUL byte, say) passes its own.
   */
  constructor(
    readonly kind: string,
    readonly value: unknown,
    reason: string,
    advice = "Use 1-128 letters, digits, '_', '.' or '-' (not '.' or '..').",
  ) {
    super(`Invalid ${kind} ${quoteId(value)}: ${reason}. ${advice}`);
  }
}

/**
 * A record read from the store is not a record of the journal format, or is
 * not where it was found (another step number, another run). Nothing is
 * trusted past this point: repair or delete the run (see the README).
 */
export class CorruptRecordError extends WorkflowError {
  readonly code = "CORRUPT_RECORD";
  constructor(
    /** Where the record lives: a file path, a table and key, a Redis key, an S3 key. */
    readonly location: string,
    /** What is wrong with it, without the location. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Corrupt record at ${location}: ${reason}.`, options);
  }
}

export class NotSerializableError extends WorkflowError {
  readonly code = "NOT_SERIALIZABLE";
  constructor(
    /** Path of the offending value, such as `shared.user.createdAt`. */
    readonly path: string,
    readonly valueType: string,
  ) {
    super(
      `${shortPath(path)} is ${valueType}, which JSON cannot store faithfully. ` +
        "Store plain JSON (objects, arrays, strings, finite numbers, booleans, null) " +
        "or pass a `codec` to WorkflowEngine.create.",
    );
  }
}

export class StorageUnavailableError extends WorkflowError {
  readonly code = "STORAGE_UNAVAILABLE";
  constructor(
    readonly storage: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${storage} is unavailable: ${reason}.`, options);
  }
}

/**
 * The store refuses for good until someone changes its configuration: a
 * missing database, bucket or table, an unknown role, permission denied, an
 * id the backend cannot hold. Retrying does not help; `cause` holds the
 * driver's error.
 */
export class StorageMisconfiguredError extends WorkflowError {
  readonly code = "STORAGE_MISCONFIGURED";
  constructor(
    readonly storage: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${storage} is misconfigured: ${reason}.`, options);
  }
}

/** A listing cursor that this store did not hand out (forged, truncated or from another listing). */
export class InvalidCursorError extends WorkflowError {
  readonly code = "INVALID_CURSOR";
  constructor(readonly cursor: unknown) {
    super(
      `Invalid cursor ${quoteId(cursor)}: pass back only the nextCursor of the previous page of the same listing, or null to start over.`,
    );
  }
}

/**
 * `step(input)` on a run that waits for a question, with no answer to it:
 * the input was meant for another question (a typo in the request id).
 */
export class UnexpectedInputError extends WorkflowError {
  readonly code = "UNEXPECTED_INPUT";
  constructor(
    readonly runId: string,
    /** The request id the run waits for. */
    readonly requestId: string,
    /** The keys that were given. */
    readonly given: string[],
  ) {
    super(
      `Run ${quoteId(runId)} waits for an answer to ${quoteId(requestId)}, but the input has ${
        given.length === 0 ? "no keys" : `only ${given.map((key) => quoteId(key)).join(", ")}`
      }. Answer with step({ ${JSON.stringify(requestId)}: value }).`,
    );
  }
}

export class StorageClosedError extends WorkflowError {
  readonly code = "STORAGE_CLOSED";
  constructor(readonly storage: string) {
    super(`${storage} has been closed; create a new storage instance to continue.`);
  }
}

/**
 * `step()` was given up through its `signal` (a worker closing, a lease
 * lost, another writer cancelling the run) while a node ran. Nothing was
 * journalled and the live state is back at the last record, so the step can
 * run again, here or in another process.
 */
export class StepAbortedError extends WorkflowError {
  readonly code = "STEP_ABORTED";
  constructor(
    readonly workflowId: string,
    readonly runId: string,
    readonly step: number,
    readonly reason: unknown,
  ) {
    const why =
      reason instanceof Error ? reason.message : reason === undefined ? "" : String(reason);
    super(
      `Step ${step} of run ${quoteId(runId)} (workflow ${quoteId(workflowId)}) was aborted${why ? `: ${why}` : ""}. ` +
        "Nothing was journalled; step() again runs the node again.",
      { cause: reason },
    );
  }
}

/**
 * A fork asked for at a step that cancelled its run: the fork would be a
 * new run cancelled from its start. `before` is the step to fork from
 * instead (the cancel's parent).
 */
export class ForkOfCancelStepError extends WorkflowError {
  readonly code = "FORK_OF_CANCEL_STEP";
  constructor(
    readonly workflowId: string,
    readonly runId: string,
    readonly step: number,
    readonly before: number | null,
  ) {
    super(
      `Step ${step} of run ${quoteId(runId)} (workflow ${quoteId(workflowId)}) cancelled the run: a fork from it would be cancelled from its start. ` +
        (before === null
          ? "Start a new run instead."
          : `Fork from step ${before}, the step before the cancel.`),
    );
  }
}

/** True when `error` is a WorkflowError with the given code (works across package copies). */
export function hasErrorCode(error: unknown, code: WorkflowErrorCode): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === code;
}
