import { decodeCursor, encodeCursor, pageRuns } from "./cursor.js";
import {
  RunExistsError,
  RunNotFoundError,
  StepConflictError,
  StepNotFoundError,
  StorageClosedError,
} from "./errors.js";
import { advanceRunMetadata, type RunMetadata, type StepRecord } from "./journal.js";
import {
  type ListRunsOptions,
  type ListStepsOptions,
  type Page,
  pageSize,
  type StorageCapabilities,
  type WorkflowStorage,
} from "./storage.js";

const STORAGE_NAME = "MemoryStorage";

export interface MemoryStorageOptions {
  /** Expire a run this many seconds after its last write. Default: never. */
  ttlSeconds?: number;
}

interface StoredRun {
  /** Kept as JSON text, like a real store, so callers can never mutate what was written. */
  metadata: string;
  steps: Map<number, string>;
  expiresAt: number;
}

/**
 * The reference implementation of the storage contract: everything in one
 * process's memory, nothing persisted. Read it as the specification; run it in
 * tests. Every method yields to the event loop before touching state, so
 * concurrent callers interleave as they would against a server.
 */
export class MemoryStorage implements WorkflowStorage {
  readonly capabilities: StorageCapabilities = { persistent: false, retention: true };
  readonly #workflows = new Map<string, Map<string, StoredRun>>();
  readonly #ttlMs: number;
  #closed = false;

  constructor(options: MemoryStorageOptions = {}) {
    const { ttlSeconds } = options;
    if (ttlSeconds !== undefined && !(ttlSeconds > 0)) {
      throw new RangeError(`ttlSeconds must be a positive number, got ${ttlSeconds}`);
    }
    this.#ttlMs = ttlSeconds === undefined ? Number.POSITIVE_INFINITY : ttlSeconds * 1000;
  }

  async createRun(run: RunMetadata, first: StepRecord): Promise<void> {
    await this.#ready();
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
    const stored = this.#require(record.workflowId, record.runId);
    const run = JSON.parse(stored.metadata) as RunMetadata;
    // The check and the write happen without an await in between: that is
    // what makes this append conditional and atomic in a single process.
    if (run.headStep !== record.step - 1) {
      throw new StepConflictError(record.workflowId, record.runId, record.step, run.headStep);
    }
    stored.steps.set(record.step, JSON.stringify(record));
    stored.metadata = JSON.stringify(advanceRunMetadata(run, record));
    stored.expiresAt = Date.now() + this.#ttlMs;
  }

  async getRun(workflowId: string, runId: string): Promise<RunMetadata> {
    await this.#ready();
    return JSON.parse(this.#require(workflowId, runId).metadata) as RunMetadata;
  }

  async getStep(workflowId: string, runId: string, step: number): Promise<StepRecord> {
    await this.#ready();
    const text = this.#require(workflowId, runId).steps.get(step);
    if (text === undefined) throw new StepNotFoundError(workflowId, runId, step);
    return JSON.parse(text) as StepRecord;
  }

  async getLatestStep(workflowId: string, runId: string): Promise<StepRecord> {
    await this.#ready();
    const stored = this.#require(workflowId, runId);
    const { headStep } = JSON.parse(stored.metadata) as RunMetadata;
    return JSON.parse(stored.steps.get(headStep) as string) as StepRecord;
  }

  async listSteps(
    workflowId: string,
    runId: string,
    options: ListStepsOptions = {},
  ): Promise<Page<StepRecord>> {
    await this.#ready();
    const limit = pageSize(options.limit);
    const after = options.cursor ? Number(decodeCursor(options.cursor)) : -1;
    const stored = this.#require(workflowId, runId);
    const numbers = [...stored.steps.keys()].filter((n) => n > after).sort((a, b) => a - b);
    const items = numbers
      .slice(0, limit)
      .map((n) => JSON.parse(stored.steps.get(n) as string) as StepRecord);
    const last = items.at(-1);
    return {
      items,
      nextCursor: numbers.length > limit && last ? encodeCursor(last.step) : null,
    };
  }

  async listRuns(workflowId: string, options: ListRunsOptions = {}): Promise<Page<RunMetadata>> {
    await this.#ready();
    const runs: RunMetadata[] = [];
    for (const runId of this.#workflows.get(workflowId)?.keys() ?? []) {
      const stored = this.#find(workflowId, runId);
      if (stored) runs.push(JSON.parse(stored.metadata) as RunMetadata);
    }
    return pageRuns(runs, options);
  }

  async listWorkflows(options: ListStepsOptions = {}): Promise<Page<string>> {
    await this.#ready();
    const limit = pageSize(options.limit);
    const after = options.cursor ? String(decodeCursor(options.cursor)) : null;
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
