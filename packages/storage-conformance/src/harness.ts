import { randomBytes } from "node:crypto";
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  hasErrorCode,
  type RunMetadata,
  type StepRecord,
  type StorageCapabilities,
  type WorkflowStorage,
} from "@wf/core";
import { missingStorageMethods, STORAGE_METHODS } from "@wf/core/storage";
import { afterEach, beforeEach } from "vitest";

/** Every method of the contract (`WorkflowStorage`), checked before any suite uses a store. */
export const CONTRACT_METHODS = STORAGE_METHODS;

/** The contract methods `store` lacks (none for a conforming object). */
export const missingMethods = missingStorageMethods;

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
  /**
   * The module this factory can be loaded from in another process: a file
   * path, a `file:` URL or a package name, whose default export is `create`
   * or these options (what the `wf-conformance` bin is given, which sets it
   * itself). With it, a store that declares `persistent` also runs the
   * cross-process tests: appenders racing from child processes, and a child
   * killed between two appends. The module must be JavaScript (Node loads
   * it without vitest) and must open the same data in every process, for
   * example from environment variables the test file sets before the suite
   * runs, which the children inherit.
   */
  module?: string | URL;
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
  /** The factory's module as a specifier child processes can import, or undefined when none was given. */
  readonly module: string | undefined;
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
    module: options.module === undefined ? undefined : moduleSpecifier(options.module),
  };
}

/** A path becomes a file URL, which `import()` takes from anywhere; a URL or a package name stays. */
function moduleSpecifier(module: string | URL): string {
  if (module instanceof URL) return module.href;
  if (isAbsolute(module) || module.startsWith(".")) return pathToFileURL(resolve(module)).href;
  return module;
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

// The suites build their records with these; adapter authors import them from `./records.js`'s entry.
export {
  collectPages,
  rejection,
  sampleRun,
  sampleStep,
  seedRun,
  snapshotRun,
  uniqueRunId,
} from "./records.js";
