import { randomBytes } from "node:crypto";
import {
  hasErrorCode,
  JOURNAL_FORMAT_VERSION,
  type RunMetadata,
  type StepRecord,
  type StorageCapabilities,
  type WorkflowStorage,
} from "@wf/core";
import { afterEach } from "vitest";

/** What the suite passes to the factory when a test needs a particular store. */
export interface StoreContext {
  /** Set by the retention tests: the store must expire runs this many seconds after their last write. */
  ttlSeconds?: number;
}

/** The record a `damage` hook replaces: a run's metadata or one of its steps. */
export interface DamageTarget {
  workflowId: string;
  runId: string;
  record: "metadata" | number;
}

export interface ConformanceOptions {
  /** Shown as the top-level describe block, e.g. "PostgresStorage". */
  name: string;
  /**
   * Returns a store. For a persistent store, every store this returns during
   * one test file must see the same data: the suite calls it again to
   * simulate a restart. Each test works under its own workflow ids, so a
   * shared server needs no flushing.
   */
  create: (context: StoreContext) => WorkflowStorage | Promise<WorkflowStorage>;
  /** Disposes of a store after each test. Default: `storage.close()`. */
  destroy?: (storage: WorkflowStorage) => void | Promise<void>;
  /** Overrides the manifest the store declares (`storage.capabilities`). */
  capabilities?: Partial<StorageCapabilities>;
  /**
   * Damages a stored record the way a disk, an operator or another program
   * would, behind the store's back: stores `text` where the record's JSON is
   * kept (keeping whatever bookkeeping the store keeps beside it, such as a
   * head pointer or index entry), or removes the record when `text` is null.
   * With it, the suite proves the store reports damage as CORRUPT_RECORD
   * naming the location, lists past a damaged run and deletes one; without
   * it those tests are skipped, saying so.
   */
  damage?: (target: DamageTarget, text: string | null) => Promise<void>;
}

/** The per-test toolbox every suite file receives. */
export interface Harness {
  readonly name: string;
  /** Capabilities the suite honours: the store's manifest, overridden by the options. */
  capabilities(): Promise<StorageCapabilities>;
  /** A store, disposed of after the test. */
  open(context?: StoreContext): Promise<WorkflowStorage>;
  /**
   * Simulates a process restart: for a persistent store, closes `store` and
   * opens a new one on the same data; otherwise returns the same store (the
   * engine keeps nothing between instances, so a new engine is a restart).
   */
  restart(store: WorkflowStorage): Promise<WorkflowStorage>;
  /** A workflow id no other test uses; its runs are deleted after the test. */
  workflowId(label: string): string;
  /** Deletes the runs of a workflow id the test made itself after the test, like `workflowId`'s. */
  adopt(workflowId: string): void;
  /** The adapter's damage hook, or undefined when it gave none. */
  readonly damage: ConformanceOptions["damage"];
}

export function createHarness(options: ConformanceOptions): Harness {
  const opened: WorkflowStorage[] = [];
  const workflowIds: string[] = [];
  let manifest: StorageCapabilities | undefined;
  const suiteTag = randomBytes(3).toString("hex");
  let counter = 0;

  const open = async (context: StoreContext = {}) => {
    const store = await options.create(context);
    opened.push(store);
    manifest ??= { ...store.capabilities, ...options.capabilities };
    return store;
  };

  const dispose = async (store: WorkflowStorage) => {
    if (options.destroy) await options.destroy(store);
    else await store.close();
  };

  afterEach(async () => {
    const stores = opened.splice(0);
    const ids = workflowIds.splice(0);
    if (manifest?.persistent && ids.length > 0) {
      // Leave a shared server as we found it.
      const cleaner = await options.create({});
      try {
        for (const workflowId of ids) {
          try {
            await deleteAllRuns(cleaner, workflowId);
          } catch (error) {
            // An id the store refused never stored anything.
            if (!hasErrorCode(error, "INVALID_ID")) throw error;
          }
        }
      } finally {
        await dispose(cleaner);
      }
    }
    for (const store of stores) await dispose(store);
  });

  return {
    name: options.name,
    async capabilities() {
      if (!manifest) {
        const probe = await options.create({});
        manifest = { ...probe.capabilities, ...options.capabilities };
        await dispose(probe);
      }
      return manifest;
    },
    open,
    async restart(store) {
      if (!(await this.capabilities()).persistent) return store;
      await store.close();
      return open();
    },
    workflowId(label) {
      counter += 1;
      const id = `conf-${suiteTag}-${counter}-${label}`;
      workflowIds.push(id);
      return id;
    },
    adopt(workflowId) {
      workflowIds.push(workflowId);
    },
    damage: options.damage,
  };
}

async function deleteAllRuns(store: WorkflowStorage, workflowId: string): Promise<void> {
  for (;;) {
    const page = await store.listRuns(workflowId, { limit: 100 });
    const runIds = [
      ...page.items.map((run) => run.runId),
      ...(page.damaged ?? []).map((d) => d.runId),
    ];
    if (runIds.length === 0) return;
    for (const runId of runIds) {
      try {
        await store.deleteRun(workflowId, runId);
      } catch (error) {
        if (!hasErrorCode(error, "RUN_NOT_FOUND")) throw error;
      }
    }
  }
}

let runCounter = 0;

/** A run id unique within the test process, in the engine's format. */
export function uniqueRunId(): string {
  runCounter += 1;
  return `20260101_000000_000_${randomBytes(4).toString("hex")}${String(runCounter % 10_000).padStart(4, "0")}`;
}

/** A valid run metadata object, written directly through the contract. */
export function sampleRun(
  workflowId: string,
  runId: string,
  overrides: Partial<RunMetadata> = {},
): RunMetadata {
  const createdAt = overrides.createdAt ?? "2026-01-01T00:00:00.000Z";
  return {
    formatVersion: JOURNAL_FORMAT_VERSION,
    workflowId,
    runId,
    createdAt,
    updatedAt: createdAt,
    status: "running",
    headStep: 0,
    forkedFrom: null,
    definition: {
      start: "a",
      nodes: [{ id: "a", type: "A" }],
      edges: [],
      hash: "0".repeat(64),
    },
    ...overrides,
  };
}

/**
 * A valid step record, written directly through the contract. A waiting or
 * failed status brings the pending question or the error it needs, unless the
 * overrides give one.
 */
export function sampleStep(
  workflowId: string,
  runId: string,
  step: number,
  overrides: Partial<StepRecord> = {},
): StepRecord {
  const status = overrides.status ?? "running";
  return {
    formatVersion: JOURNAL_FORMAT_VERSION,
    workflowId,
    runId,
    step,
    parent: step === 0 ? null : step - 1,
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, step)).toISOString(),
    status: "running",
    nodeStatuses: step === 0 ? {} : { a: "completed" },
    nodeTypes: step === 0 ? {} : { a: "A" },
    shared: { step },
    previousNodeId: step === 0 ? null : "a",
    nextNodeId: "a",
    awaitingInput:
      status === "waiting_for_input"
        ? { nodeId: "a", requestId: "a", prompt: "Answer?", options: null }
        : null,
    inputs: {},
    error:
      status === "failed"
        ? { name: "Error", message: "failed on purpose", code: null, nodeId: "a", stack: null }
        : null,
    ...overrides,
  };
}

/** Creates a run with steps 0..head written through the contract. */
export async function seedRun(
  store: WorkflowStorage,
  workflowId: string,
  head: number,
  runId = uniqueRunId(),
): Promise<string> {
  await store.createRun(sampleRun(workflowId, runId), sampleStep(workflowId, runId, 0));
  for (let step = 1; step <= head; step++) {
    await store.appendStep(sampleStep(workflowId, runId, step));
  }
  return runId;
}

/** Every page of a listing, concatenated; with `limit`, also checks no page is longer. */
export async function collectPages<T>(
  list: (cursor: string | null) => Promise<{ items: T[]; nextCursor: string | null }>,
  limit?: number,
): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 10_000; pages++) {
    const page = await list(cursor);
    if (limit !== undefined && page.items.length > limit) {
      throw new Error(`a page held ${page.items.length} items, more than the limit of ${limit}`);
    }
    all.push(...page.items);
    cursor = page.nextCursor;
    if (cursor === null) return all;
  }
  throw new Error("listing did not end after 10,000 pages");
}

/** The JSON text of everything a run stores: metadata and every step, for byte-for-byte comparison. */
export async function snapshotRun(
  store: WorkflowStorage,
  workflowId: string,
  runId: string,
): Promise<string> {
  const run = await store.getRun(workflowId, runId);
  const steps = await collectPages((cursor) => store.listSteps(workflowId, runId, { cursor }));
  return JSON.stringify({ run, steps });
}

/** Resolves to the error a promise rejected with, or fails if it fulfilled. */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error("expected the operation to fail, but it succeeded");
}
