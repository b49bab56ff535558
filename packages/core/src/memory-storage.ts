import { decodeCursor, encodeCursor, isStepPosition, isTextPosition, pageRuns } from "./cursor.js";
import {
  CorruptRecordError,
  RunExistsError,
  RunNotFoundError,
  StepConflictError,
  StepNotFoundError,
  StorageClosedError,
} from "./errors.js";
import { assertRunIds, assertValidId } from "./ids.js";
import { advanceRunMetadata, type RunMetadata, type StepRecord } from "./journal.js";
import { checkOptions } from "./options-check.js";
import { checkRunMetadata, checkStepRecord, parseRecordJson } from "./record-check.js";
import { stepRecordJson } from "./record-json.js";
import {
  checkListOptions,
  type DamagedRun,
  type ListRunsOptions,
  type Page,
  type PageOptions,
  type RunPage,
  type StorageCapabilities,
  type WorkflowStorage,
} from "./storage.js";

const STORAGE_NAME = "MemoryStorage";

export interface MemoryStorageOptions {
  /** Expire a run this many seconds after its last write. Default: never. */
  ttlSeconds?: number;
  /**
   * Where the records are kept. Default: a new, empty map. Pass one map to
   * several stores to have them share data (as processes share a server), or
   * to look at what was stored in a test.
   */
  data?: MemoryStorageData;
}

const MEMORY_STORAGE_OPTIONS: readonly (keyof MemoryStorageOptions)[] = ["ttlSeconds", "data"];

/** Runs by workflow id, then by run id. */
export type MemoryStorageData = Map<string, Map<string, MemoryStoredRun>>;

export interface MemoryStoredRun {
  /** Kept as JSON text, like a real store, so callers can never mutate what was written. */
  metadata: string;
  /** JSON text of each step record by step number. */
  steps: Map<number, string>;
  /** Epoch milliseconds after which the run is gone. */
  expiresAt: number;
}

type StoredRun = MemoryStoredRun;

/** Where a record lives, for CORRUPT_RECORD. */
function locationOf(workflowId: string, runId: string, step?: number): string {
  const run = `memory:${JSON.stringify(workflowId)}/${JSON.stringify(runId)}`;
  return step === undefined ? `${run} metadata` : `${run} step ${step}`;
}

/**
 * The reference implementation of the storage contract: everything in one
 * process's memory, nothing persisted. Read it as the specification; run it in
 * tests. Every method yields to the event loop before touching state, so
 * concurrent callers interleave as they would against a server.
 */
export class MemoryStorage implements WorkflowStorage {
  readonly capabilities: StorageCapabilities = { persistent: false, retention: true };
  readonly #workflows: MemoryStorageData;
  readonly #ttlMs: number;
  #closed = false;

  constructor(options: MemoryStorageOptions = {}) {
    checkOptions(STORAGE_NAME, options, MEMORY_STORAGE_OPTIONS, false);
    const { ttlSeconds, data = new Map() } = options;
    this.#workflows = data;
    if (ttlSeconds !== undefined && !(ttlSeconds > 0)) {
      throw new RangeError(`ttlSeconds must be a positive number, got ${ttlSeconds}`);
    }
    this.#ttlMs = ttlSeconds === undefined ? Number.POSITIVE_INFINITY : ttlSeconds * 1000;
  }

  async createRun(run: RunMetadata, first: StepRecord): Promise<void> {
    await this.#ready();
    assertRunIds(run.workflowId, run.runId);
    if (this.#find(run.workflowId, run.runId)) {
      throw new RunExistsError(run.workflowId, run.runId);
    }
    if (first.step !== run.headStep || !Number.isSafeInteger(first.step) || first.step < 0) {
      throw new TypeError(
        `first.step (${first.step}) must be a non-negative integer equal to run.headStep (${run.headStep})`,
      );
    }
    let runs = this.#workflows.get(run.workflowId);
    if (!runs) {
      runs = new Map();
      this.#workflows.set(run.workflowId, runs);
    }
    runs.set(run.runId, {
      metadata: JSON.stringify(run),
      steps: new Map([[first.step, JSON.stringify(first)]]),
      expiresAt: Date.now() + this.#ttlMs,
    });
  }

  async appendStep(record: StepRecord): Promise<void> {
    await this.#ready();
    assertRunIds(record.workflowId, record.runId);
    const stored = this.#require(record.workflowId, record.runId);
    const run = this.#metadata(record.workflowId, record.runId, stored);
    // The check and the write happen without an await in between: that is
    // what makes this append conditional and atomic in a single process.
    if (run.headStep !== record.step - 1) {
      throw new StepConflictError(record.workflowId, record.runId, record.step, run.headStep);
    }
    stored.steps.set(record.step, stepRecordJson(record));
    stored.metadata = JSON.stringify(advanceRunMetadata(run, record));
    stored.expiresAt = Date.now() + this.#ttlMs;
  }

  async getRun(workflowId: string, runId: string): Promise<RunMetadata> {
    await this.#ready();
    assertRunIds(workflowId, runId);
    return this.#metadata(workflowId, runId, this.#require(workflowId, runId));
  }

  async getStep(workflowId: string, runId: string, step: number): Promise<StepRecord> {
    await this.#ready();
    assertRunIds(workflowId, runId);
    const stored = this.#require(workflowId, runId);
    return this.#step(workflowId, runId, stored, step, this.#metadata(workflowId, runId, stored));
  }

  async getLatestStep(workflowId: string, runId: string): Promise<StepRecord> {
    await this.#ready();
    assertRunIds(workflowId, runId);
    const stored = this.#require(workflowId, runId);
    const run = this.#metadata(workflowId, runId, stored);
    return this.#step(workflowId, runId, stored, run.headStep, run);
  }

  async listSteps(
    workflowId: string,
    runId: string,
    options: PageOptions = {},
  ): Promise<Page<StepRecord>> {
    await this.#ready();
    assertRunIds(workflowId, runId);
    const { limit, cursor } = checkListOptions(options);
    const after = cursor === null ? -1 : decodeCursor(cursor, isStepPosition);
    const stored = this.#require(workflowId, runId);
    const run = this.#metadata(workflowId, runId, stored);
    const first = run.forkedFrom?.step ?? 0;
    const numbers: number[] = [];
    for (let n = Math.max(after + 1, first); n <= run.headStep && numbers.length <= limit; n++) {
      numbers.push(n);
    }
    const items = numbers.slice(0, limit).map((n) => this.#step(workflowId, runId, stored, n, run));
    const last = items.at(-1);
    return {
      items,
      nextCursor: numbers.length > limit && last ? encodeCursor(last.step) : null,
    };
  }

  async listRuns(workflowId: string, options: ListRunsOptions = {}): Promise<RunPage> {
    await this.#ready();
    assertValidId(workflowId, "workflowId");
    checkListOptions(options);
    const runs: RunMetadata[] = [];
    const damaged: DamagedRun[] = [];
    for (const runId of [...(this.#workflows.get(workflowId)?.keys() ?? [])]) {
      const stored = this.#find(workflowId, runId);
      if (!stored) continue;
      try {
        runs.push(this.#metadata(workflowId, runId, stored));
      } catch (error) {
        if (!(error instanceof CorruptRecordError)) throw error;
        damaged.push({ runId, location: error.location, reason: error.reason });
      }
    }
    return pageRuns(runs, options, damaged);
  }

  async listWorkflows(options: PageOptions = {}): Promise<Page<string>> {
    await this.#ready();
    const { limit, cursor } = checkListOptions(options);
    const after = cursor === null ? null : decodeCursor(cursor, isTextPosition);
    const ids = [...this.#workflows.keys()]
      .filter((id) => [...(this.#workflows.get(id)?.keys() ?? [])].some((r) => this.#find(id, r)))
      .filter((id) => after === null || id > after)
      .sort();
    const items = ids.slice(0, limit);
    const last = items.at(-1);
    return { items, nextCursor: ids.length > limit && last ? encodeCursor(last) : null };
  }

  async deleteRun(workflowId: string, runId: string): Promise<void> {
    await this.#ready();
    assertRunIds(workflowId, runId);
    this.#require(workflowId, runId);
    this.#forget(workflowId, runId);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  async #ready(): Promise<void> {
    await Promise.resolve();
    if (this.#closed) throw new StorageClosedError(STORAGE_NAME);
  }

  /** The run's metadata, checked against the journal format. */
  #metadata(workflowId: string, runId: string, stored: StoredRun): RunMetadata {
    const location = locationOf(workflowId, runId);
    return checkRunMetadata(parseRecordJson(stored.metadata, location), location, {
      workflowId,
      runId,
    });
  }

  /**
   * Step `step` of the run, checked. A step between the run's first (0, or
   * the fork point) and its head that is missing means the journal is
   * damaged: CORRUPT_RECORD, where a step outside that range is STEP_NOT_FOUND.
   */
  #step(
    workflowId: string,
    runId: string,
    stored: StoredRun,
    step: number,
    run: RunMetadata,
  ): StepRecord {
    const location = locationOf(workflowId, runId, step);
    const text = stored.steps.get(step);
    if (text === undefined) {
      // Only a whole step number inside the stored range can be missing; 1.5 or -1 never existed.
      const first = run.forkedFrom?.step ?? 0;
      if (Number.isSafeInteger(step) && step >= first && step <= run.headStep) {
        throw new CorruptRecordError(location, "the step is missing below the run's head");
      }
      throw new StepNotFoundError(workflowId, runId, step);
    }
    return checkStepRecord(parseRecordJson(text, location), location, { workflowId, runId, step });
  }

  /** The run if it exists and has not expired; expired runs are dropped on sight. */
  #find(workflowId: string, runId: string): StoredRun | undefined {
    const stored = this.#workflows.get(workflowId)?.get(runId);
    if (stored && stored.expiresAt <= Date.now()) {
      this.#forget(workflowId, runId);
      return undefined;
    }
    return stored;
  }

  #require(workflowId: string, runId: string): StoredRun {
    const stored = this.#find(workflowId, runId);
    if (!stored) throw new RunNotFoundError(workflowId, runId);
    return stored;
  }

  #forget(workflowId: string, runId: string): void {
    const runs = this.#workflows.get(workflowId);
    runs?.delete(runId);
    if (runs?.size === 0) this.#workflows.delete(workflowId);
  }
}
