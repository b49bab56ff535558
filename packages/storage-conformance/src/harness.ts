import { randomBytes } from "node:crypto";
import {
  hasErrorCode,
  JOURNAL_FORMAT_VERSION,
  type RunMetadata,
  type StepRecord,
  type StorageCapabilities,
  type WorkflowStorage,
} from "@wf/core";
import { afterEach, beforeEach } from "vitest";

/** Every method of the contract (`WorkflowStorage`), checked before any suite uses a store. */
export const CONTRACT_METHODS = [
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
] as const;

/** The contract methods `store` lacks (none for a conforming object). */
export function missingMethods(store: unknown): string[] {
  const candidate = (store ?? {}) as Record<string, unknown>;
  return CONTRACT_METHODS.filter((method) => typeof candidate[method] !== "function");
}

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
  /**
   * The round trips `store` has made to its server so far (requests,
   * queries), as the adapter counts them; for example
   * `(store) => store.requestsSent`. With it, the flat-cost test also checks
   * that opening a run and appending a step take as many round trips at
   * step 300 as at step 10; without it, only contract calls are counted.
   */
  roundTrips?: (store: WorkflowStorage) => number;
}

/** The per-test toolbox every suite file receives. */
export interface Harness {
  readonly name: string;
  /** Capabilities the suite honours: the store's manifest, overridden by the options. */
  capabilities(): Promise<StorageCapabilities>;
  /**
   * A store, disposed of after the test. The records a test hands it
   * (`createRun`, `appendStep`) reach the adapter as copies, so that a store
   * keeping references to them fails the one test about that (`openAsIs`),
   * not every test whose records are mutated later.
   */
  open(context?: StoreContext): Promise<WorkflowStorage>;
  /** A store exactly as the factory returned it, records handed over as they are; disposed of after the test. */
  openAsIs(context?: StoreContext): Promise<WorkflowStorage>;
  /**
   * Checks the factory's store has every contract method; records the
   * answer so that, when it has not, every later test is skipped instead of
   * failing on "is not a function". Resolves to the missing methods.
   */
  checkShape(): Promise<string[]>;
  /**
   * Simulates a process restart: for a persistent store, closes `store` and
   * opens a new one on the same data; otherwise returns the same store (the
   * engine keeps nothing between instances, so a new engine is a restart).
   */
  restart(store: WorkflowStorage): Promise<WorkflowStorage>;
  /** A workflow id no other test uses; its runs are deleted after the test. */
  workflowId(label: string): string;
  /** Deletes the runs of a workflow id the test made itself after the test, like `workflowId`'s. */
  cleanUpWorkflow(workflowId: string): void;
  /** The adapter's damage hook, or undefined when it gave none. */
  readonly damage: ConformanceOptions["damage"];
  /** The adapter's round-trip counter, or undefined when it gave none. */
  readonly roundTrips: ConformanceOptions["roundTrips"];
}

export function createHarness(options: ConformanceOptions): Harness {
  const opened: WorkflowStorage[] = [];
  const workflowIds: string[] = [];
  let manifest: StorageCapabilities | undefined;
  const suiteTag = randomBytes(3).toString("hex");
  let counter = 0;
  let missing: string[] | undefined;

  const openAsIs = async (context: StoreContext = {}) => {
    const store = await options.create(context);
    const lacking = missingMethods(store);
    if (lacking.length > 0) {
      throw new TypeError(`the factory's store lacks contract methods: ${lacking.join(", ")}`);
    }
    opened.push(store);
    manifest ??= { ...store.capabilities, ...options.capabilities };
    return store;
  };
  const open = async (context: StoreContext = {}) => handingCopies(await openAsIs(context));

  // A store without the contract's methods fails the shape test once; the rest would only repeat it.
  beforeEach((context) => {
    if (missing !== undefined && missing.length > 0) {
      context.skip("the store lacks contract methods: see the first test");
    }
  });

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
    openAsIs,
    async checkShape() {
      const probe = await options.create({});
      missing = missingMethods(probe);
      if (missing.length === 0) await dispose(probe);
      else await (probe as Partial<WorkflowStorage> | undefined)?.close?.();
      return missing;
    },
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
    cleanUpWorkflow(workflowId) {
      workflowIds.push(workflowId);
    },
    damage: options.damage,
    roundTrips: options.roundTrips,
  };
}

/**
 * `store` with every record handed to `createRun` and `appendStep` copied
 * first: the suite's records are the adapter's to read, never to keep.
 */
function handingCopies(store: WorkflowStorage): WorkflowStorage {
  return new Proxy(store, {
    get(target, property) {
      if (property === "createRun") {
        return (run: RunMetadata, first: StepRecord) =>
          target.createRun(structuredClone(run), structuredClone(first));
      }
      if (property === "appendStep") {
        return (record: StepRecord) => target.appendStep(structuredClone(record));
      }
      // The store itself as receiver: its getters may read private fields.
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
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
