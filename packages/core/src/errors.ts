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
  "STORAGE_CLOSED",
] as const;

export type WorkflowErrorCode = (typeof ERROR_CODES)[number];

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
    super(`Run "${runId}" of workflow "${workflowId}" does not exist in this storage.`);
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
    super(`Step ${step} of run "${runId}" (workflow "${workflowId}") does not exist${detail}.`);
  }
}

export class RunExistsError extends WorkflowError {
  readonly code = "RUN_EXISTS";
  constructor(
    readonly workflowId: string,
    readonly runId: string,
  ) {
    super(`Run "${runId}" of workflow "${workflowId}" already exists.`);
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
      `Step ${step} of run "${runId}" could not be appended: ${
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
      `Cannot resume: run "${runId}" at step ${step}: ${problems.join("; ")}. ` +
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
    super(`Invalid ${kind} ${JSON.stringify(String(value)).slice(0, 80)}: ${reason}. ${advice}`);
  }
}

export class CorruptRecordError extends WorkflowError {
  readonly code = "CORRUPT_RECORD";
  constructor(
    /** Where the record lives: a file path, a key, a row. */
    readonly location: string,
    reason: string,
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
      `${path} is ${valueType}, which JSON cannot store faithfully. ` +
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

export class StorageClosedError extends WorkflowError {
  readonly code = "STORAGE_CLOSED";
  constructor(readonly storage: string) {
    super(`${storage} has been closed; create a new storage instance to continue.`);
  }
}

/** True when `error` is a WorkflowError with the given code (works across package copies). */
export function hasErrorCode(error: unknown, code: WorkflowErrorCode): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === code;
}
