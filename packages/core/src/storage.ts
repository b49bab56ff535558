import { InvalidCursorError } from "./errors.js";
import { RUN_STATUSES, type RunMetadata, type RunStatus, type StepRecord } from "./journal.js";

/** One page of a listing. Pass `nextCursor` back as `cursor` until it is null. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Paging of every listing: `listSteps`, `listWorkflows`, and `listRuns` (which adds a filter). */
export interface PageOptions {
  /** Opaque cursor from a previous page. */
  cursor?: string | null;
  /** Page size; adapters cap it. Default 100. */
  limit?: number;
}

/** @deprecated Use `PageOptions`, which `listWorkflows` takes too. Kept so adapters keep compiling. */
export type ListStepsOptions = PageOptions;

export interface ListRunsOptions extends PageOptions {
  /** Only runs whose metadata has this status. */
  status?: RunStatus;
}

/** A run whose metadata could not be read while listing: it is reported, not skipped, and not fatal. */
export interface DamagedRun {
  runId: string;
  /** Where the damaged record lives, as in CorruptRecordError. */
  location: string;
  /** What is wrong with it. */
  reason: string;
}

/**
 * A page of `listRuns`. A damaged run does not stop the listing: the healthy
 * runs are listed and each damaged one is reported in `damaged` of one page of
 * the listing (whichever page the adapter met it on), whatever the status
 * filter, since its status cannot be read.
 */
export interface RunPage extends Page<RunMetadata> {
  damaged: DamagedRun[];
}

/**
 * Optional features an adapter declares. The conformance suite decides which
 * tests to run from this manifest alone, never from the adapter's name.
 */
export interface StorageCapabilities {
  /**
   * Data outlives the store instance: a second instance made by the same
   * factory (another process, after a restart) sees what the first wrote.
   */
  persistent: boolean;
  /** The store expires whole runs `ttlSeconds` after their last write (option `ttlSeconds`). */
  retention: boolean;
}

/**
 * The storage contract. Every method is async and every failure is a
 * WorkflowError with a stable code. Workflow and run ids reach the adapter as
 * opaque strings: encode them so no id can reach another run's data.
 */
export interface WorkflowStorage {
  readonly capabilities: StorageCapabilities;

  /**
   * Stores a new run's metadata and its first record in one atomic operation.
   * `first.step` equals `run.headStep` (0 for a new run, k for a fork from k).
   * Fails with RUN_EXISTS, writing nothing, if the run exists.
   */
  createRun(run: RunMetadata, first: StepRecord): Promise<void>;

  /**
   * Appends `record` only if the run's head is `record.step - 1`, and in the
   * same atomic operation sets the metadata's `headStep`, `status` and
   * `updatedAt` (= `record.createdAt`). Otherwise fails with STEP_CONFLICT and
   * writes nothing; RUN_NOT_FOUND if the run does not exist.
   */
  appendStep(record: StepRecord): Promise<void>;

  /** RUN_NOT_FOUND if absent. */
  getRun(workflowId: string, runId: string): Promise<RunMetadata>;

  /** A step stored in this run (not one read through a fork's source). STEP_NOT_FOUND or RUN_NOT_FOUND if absent. */
  getStep(workflowId: string, runId: string, step: number): Promise<StepRecord>;

  /** The record at the run's head. RUN_NOT_FOUND if absent. */
  getLatestStep(workflowId: string, runId: string): Promise<StepRecord>;

  /** Records stored in this run, ascending by step number. RUN_NOT_FOUND if absent. */
  listSteps(workflowId: string, runId: string, options?: PageOptions): Promise<Page<StepRecord>>;

  /** Runs of a workflow, newest first (`createdAt`, then `runId`, descending). */
  listRuns(workflowId: string, options?: ListRunsOptions): Promise<RunPage>;

  /** Ids of workflows that have at least one run, ascending. */
  listWorkflows(options?: PageOptions): Promise<Page<string>>;

  /** Removes the run's metadata and every step it stores. RUN_NOT_FOUND if absent. */
  deleteRun(workflowId: string, runId: string): Promise<void>;

  /**
   * Releases what the adapter opened itself (never a client it was handed).
   * Idempotent. Afterwards every other method fails with STORAGE_CLOSED.
   */
  close(): Promise<void>;
}

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/** Clamps a caller's page size to 1..MAX_PAGE_SIZE; RangeError for anything but a positive integer. */
export function pageSize(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(
      `limit must be a positive integer, got ${String(limit)} (${typeof limit})`,
    );
  }
  return Math.min(limit, MAX_PAGE_SIZE);
}

/** Listing options checked once, the same way on every store. */
export interface CheckedListOptions {
  limit: number;
  /** The caller's cursor, not yet decoded; null for the first page. */
  cursor: string | null;
  status: RunStatus | undefined;
}

/**
 * Checks listing options before an adapter touches its store: `limit` as
 * `pageSize` does, a `cursor` that is not a string is INVALID_CURSOR, and a
 * `status` outside the run statuses is a TypeError naming them.
 */
export function checkListOptions(options: ListRunsOptions = {}): CheckedListOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`listing options must be an object, got ${String(options)}`);
  }
  const { cursor = null, status } = options;
  if (cursor !== null && (typeof cursor !== "string" || cursor.length === 0)) {
    throw new InvalidCursorError(cursor);
  }
  if (status !== undefined && !RUN_STATUSES.includes(status)) {
    throw new TypeError(
      `status must be one of ${RUN_STATUSES.join(", ")}, got ${JSON.stringify(status)}`,
    );
  }
  return { limit: pageSize(options.limit), cursor, status };
}

/** Every method of the storage contract (`WorkflowStorage`). */
export const STORAGE_METHODS = [
  "createRun",
  "appendStep",
  "getRun",
  "getStep",
  "getLatestStep",
  "listSteps",
  "listRuns",
  "listWorkflows",
  "deleteRun",
  "close",
] as const satisfies readonly (keyof WorkflowStorage)[];

/**
 * The contract methods `value` lacks (none for a store): what a tool that is
 * handed a store checks before it relies on it, to name what is missing
 * rather than fail later with "is not a function".
 */
export function missingStorageMethods(value: unknown): string[] {
  const candidate = (typeof value === "object" && value !== null ? value : {}) as Record<
    string,
    unknown
  >;
  return STORAGE_METHODS.filter((method) => typeof candidate[method] !== "function");
}
