import { mkdir, rename, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import {
  advanceRunMetadata,
  CorruptRecordError,
  compareRunsNewestFirst,
  DEFAULT_LOG_DIR,
  decodeCursor,
  encodeCursor,
  type ListRunsOptions,
  type ListStepsOptions,
  type Page,
  pageSize,
  RunExistsError,
  type RunMetadata,
  RunNotFoundError,
  StepConflictError,
  StepNotFoundError,
  type StepRecord,
  type StorageCapabilities,
  StorageClosedError,
  type WorkflowStorage,
} from "@wf/core";
import {
  publishNewFile,
  removeStaleTemps,
  replaceFile,
  syncDirectory,
  tempPath,
  writeNewFile,
} from "./atomic-write.js";
import {
  checkLayout,
  createLayout,
  isRunDirName,
  isWorkflowDirName,
  parseStepFileName,
  RUN_FILE,
  RunPaths,
  runDirName,
  STEPS_DIR,
  stepFileName,
  WORKFLOW_FILE,
  workflowDirName,
} from "./layout.js";
import { errnoCode, isMissing, STORAGE_NAME, toStorageError } from "./os-errors.js";
import {
  exists,
  listDirectory,
  parseRunMetadata,
  parseStepRecord,
  parseWorkflowId,
  readJsonFile,
} from "./read-records.js";

export interface FileSystemStorageOptions {
  /**
   * Directory holding the journal. A relative path is resolved against
   * `process.cwd()` when the storage is constructed. Created on the first
   * write. Default: `./logs`.
   */
  dir?: string;
  /**
   * Flush every record, and the directory entry that publishes it, to disk
   * before the write resolves, so an acknowledged step survives a power loss
   * or OS crash. Without it a process crash still never tears a record, but
   * a power loss may lose the last acknowledged steps. Default: `true`.
   */
  fsync?: boolean;
}

/** Files read at once when a call reads many (a page of steps, every run of a workflow), to spare file descriptors. */
const READ_CONCURRENCY = 32;

/** The current state of a run: its run.json and the true head, which run.json may lag behind. */
interface RunState {
  stored: RunMetadata;
  headStep: number;
}

/**
 * The journal on the local file system, one file per step (see layout.ts).
 *
 * The step files are the truth. Step n is published with `link`, which fails
 * if step n exists, and only after step n-1 was seen: that makes the append
 * conditional across threads and processes. run.json is updated afterwards as
 * a hint; when a crash or a racing writer leaves it behind, readers probe
 * forward from its head for newer step files and derive the metadata from
 * the newest, and the next append rewrites it.
 */
export class FileSystemStorage implements WorkflowStorage {
  readonly capabilities: StorageCapabilities = { persistent: true, retention: false };
  /** Absolute path of the journal directory. */
  readonly dir: string;
  readonly #durable: boolean;
  #closed = false;
  /** Whether the layout marker exists (checked once); writes create it when it does not. */
  #layout: Promise<boolean> | undefined;

  constructor(options: FileSystemStorageOptions = {}) {
    const { dir = DEFAULT_LOG_DIR, fsync = true } = options;
    if (typeof dir !== "string" || dir.length === 0) {
      throw new TypeError(`dir must be a non-empty path, got ${JSON.stringify(dir)}`);
    }
    this.dir = resolve(dir);
    this.#durable = fsync;
  }

  createRun(run: RunMetadata, first: StepRecord): Promise<void> {
    return this.#operation("write", async () => {
      const paths = RunPaths.of(this.dir, run.workflowId, run.runId);
      if (await exists(paths.runFile)) throw new RunExistsError(run.workflowId, run.runId);
      if (first.step !== run.headStep) {
        throw new TypeError(`first.step (${first.step}) must equal run.headStep (${run.headStep})`);
      }
      if (!Number.isSafeInteger(first.step) || first.step < 0) {
        throw new TypeError(`first.step must be a non-negative integer, got ${first.step}`);
      }
      await this.#ensureWorkflowDir(paths.workflowDir, run.workflowId);
      await removeStaleTemps(paths.workflowDir);
      // The run is built complete under a temporary name and renamed into
      // place, so it appears with its first step or not at all.
      const temp = tempPath(paths.workflowDir);
      try {
        await mkdir(temp);
        await writeNewFile(join(temp, RUN_FILE), JSON.stringify(run), this.#durable);
        await mkdir(join(temp, STEPS_DIR));
        const stepFile = join(temp, STEPS_DIR, stepFileName(first.step));
        await writeNewFile(stepFile, JSON.stringify(first), this.#durable);
        await syncDirectory(join(temp, STEPS_DIR), this.#durable);
        await syncDirectory(temp, this.#durable);
        try {
          await rename(temp, paths.dir);
        } catch (error) {
          // A directory is never renamed onto a non-empty one (ENOTEMPTY or
          // EEXIST; EPERM on Windows): another writer created the run first.
          const code = errnoCode(error);
          if (code === "ENOTEMPTY" || code === "EEXIST" || (await exists(paths.dir))) {
            throw new RunExistsError(run.workflowId, run.runId);
          }
          throw error;
        }
      } catch (error) {
        await rm(temp, { recursive: true, force: true }).catch(() => undefined);
        throw error;
      }
      await syncDirectory(paths.workflowDir, this.#durable);
    });
  }

  appendStep(record: StepRecord): Promise<void> {
    return this.#operation("write", async () => {
      const { workflowId, runId, step } = record;
      const paths = RunPaths.of(this.dir, workflowId, runId);
      const { stored, headStep } = await this.#readRunState(paths, workflowId, runId);
      if (!Number.isSafeInteger(step) || step !== headStep + 1) {
        throw new StepConflictError(workflowId, runId, step, headStep);
      }
      await removeStaleTemps(paths.dir);
      const temp = tempPath(paths.dir);
      try {
        await writeNewFile(temp, JSON.stringify(record), this.#durable);
        // Step n-1 exists (seen above) and steps are removed only with their
        // run, so publishing step n only if it is absent is the condition.
        if (!(await publishNewFile(temp, paths.stepFile(step)))) {
          const { headStep: now } = await this.#readRunState(paths, workflowId, runId);
          throw new StepConflictError(workflowId, runId, step, now);
        }
      } catch (error) {
        // The run was deleted while we wrote.
        if (isMissing(error) && !(await exists(paths.runFile))) {
          throw new RunNotFoundError(workflowId, runId);
        }
        throw error;
      }
      await syncDirectory(paths.stepsDir, this.#durable);
      await this.#refreshRunFile(paths, stored, record);
    });
  }

  getRun(workflowId: string, runId: string): Promise<RunMetadata> {
    return this.#operation("read", async () => {
      return this.#currentRun(RunPaths.of(this.dir, workflowId, runId), workflowId, runId);
    });
  }

  getStep(workflowId: string, runId: string, step: number): Promise<StepRecord> {
    return this.#operation("read", async () => {
      const paths = RunPaths.of(this.dir, workflowId, runId);
      if (Number.isSafeInteger(step) && step >= 0) {
        const record = await this.#readStep(paths, step);
        if (record) return record;
      }
      if (!(await exists(paths.runFile))) throw new RunNotFoundError(workflowId, runId);
      throw new StepNotFoundError(workflowId, runId, step);
    });
  }

  getLatestStep(workflowId: string, runId: string): Promise<StepRecord> {
    return this.#operation("read", async () => {
      const paths = RunPaths.of(this.dir, workflowId, runId);
      const { headStep } = await this.#readRunState(paths, workflowId, runId);
      return this.#requireStep(paths, workflowId, runId, headStep);
    });
  }

  listSteps(
    workflowId: string,
    runId: string,
    options: ListStepsOptions = {},
  ): Promise<Page<StepRecord>> {
    return this.#operation("read", async () => {
      const limit = pageSize(options.limit);
      const after = options.cursor ? Number(decodeCursor(options.cursor)) : -1;
      const paths = RunPaths.of(this.dir, workflowId, runId);
      const { headStep } = await this.#readRunState(paths, workflowId, runId);
      if (Number.isNaN(after)) return { items: [], nextCursor: null };
      // A run's steps are contiguous from its first record to its head, so a
      // page is a range of file names, not a directory listing.
      let first = Math.max(Math.floor(after) + 1, 0);
      if (first <= headStep && !(await exists(paths.stepFile(first)))) {
        // Below the first record of a run that starts at k (a fork).
        first = Math.max(first, await this.#lowestStep(paths, workflowId, runId));
      }
      const last = Math.min(headStep, first + limit - 1);
      const numbers = Array.from({ length: Math.max(last - first + 1, 0) }, (_, i) => first + i);
      const items = await mapConcurrently(numbers, (n) =>
        this.#requireStep(paths, workflowId, runId, n),
      );
      return { items, nextCursor: last < headStep ? encodeCursor(last) : null };
    });
  }

  listRuns(workflowId: string, options: ListRunsOptions = {}): Promise<Page<RunMetadata>> {
    return this.#operation("read", async () => {
      const limit = pageSize(options.limit);
      const after = options.cursor ? (decodeCursor(options.cursor) as [string, string]) : null;
      const workflowDir = join(this.dir, workflowDirName(workflowId));
      const names = (await listDirectory(workflowDir)).filter(isRunDirName);
      // One small run.json per run (plus a probe for a newer step); step files are never listed.
      const found = await mapConcurrently(names, async (name) => {
        const paths = new RunPaths(workflowDir, name);
        try {
          const run = await this.#currentRun(paths, workflowId);
          if (runDirName(run.runId) !== name) {
            throw new CorruptRecordError(
              paths.runFile,
              `it names run ${JSON.stringify(run.runId)}`,
            );
          }
          return run;
        } catch (error) {
          // Deleted while we listed.
          if (error instanceof RunNotFoundError) return null;
          throw error;
        }
      });
      const matching = found
        .filter((run): run is RunMetadata => run !== null)
        .filter((run) => options.status === undefined || run.status === options.status)
        .filter(
          (run) =>
            after === null ||
            compareRunsNewestFirst(run, { createdAt: after[0], runId: after[1] }) > 0,
        )
        .sort(compareRunsNewestFirst);
      const items = matching.slice(0, limit);
      const lastItem = items.at(-1);
      return {
        items,
        nextCursor:
          matching.length > limit && lastItem
            ? encodeCursor([lastItem.createdAt, lastItem.runId])
            : null,
      };
    });
  }

  listWorkflows(options: ListStepsOptions = {}): Promise<Page<string>> {
    return this.#operation("read", async () => {
      const limit = pageSize(options.limit);
      const after = options.cursor ? String(decodeCursor(options.cursor)) : null;
      const names = (await listDirectory(this.dir)).filter(isWorkflowDirName);
      const found = await mapConcurrently(names, async (name) => {
        const workflowDir = join(this.dir, name);
        // A workflow whose runs were all deleted keeps its directory but is not listed.
        if (!(await listDirectory(workflowDir)).some(isRunDirName)) return null;
        const file = join(workflowDir, WORKFLOW_FILE);
        const value = await readJsonFile(file);
        if (value === undefined) throw new CorruptRecordError(file, "it is missing");
        return parseWorkflowId(value, file);
      });
      const ids = found
        .filter((id): id is string => id !== null)
        .filter((id) => after === null || id > after)
        .sort();
      const items = ids.slice(0, limit);
      const lastItem = items.at(-1);
      return {
        items,
        nextCursor: ids.length > limit && lastItem ? encodeCursor(lastItem) : null,
      };
    });
  }

  deleteRun(workflowId: string, runId: string): Promise<void> {
    return this.#operation("write", async () => {
      const paths = RunPaths.of(this.dir, workflowId, runId);
      if (!(await exists(paths.runFile))) throw new RunNotFoundError(workflowId, runId);
      await removeStaleTemps(paths.workflowDir);
      // Renamed out of sight first, so no reader ever sees a half-deleted run.
      const temp = tempPath(paths.workflowDir);
      try {
        await rename(paths.dir, temp);
      } catch (error) {
        if (isMissing(error)) throw new RunNotFoundError(workflowId, runId);
        throw error;
      }
      await syncDirectory(paths.workflowDir, this.#durable);
      // The run is gone once renamed; what rm leaves behind is swept later.
      await rm(temp, { recursive: true, force: true }).catch(() => undefined);
    });
  }

  async close(): Promise<void> {
    // Nothing to release: every file is closed as soon as it is written or read.
    this.#closed = true;
  }

  /** Runs `body` on an open store, reporting an unusable disk as STORAGE_UNAVAILABLE. */
  async #operation<T>(kind: "read" | "write", body: () => Promise<T>): Promise<T> {
    await Promise.resolve();
    if (this.#closed) throw new StorageClosedError(STORAGE_NAME);
    try {
      await this.#openLayout(kind);
      return await body();
    } catch (error) {
      throw toStorageError(error);
    }
  }

  /** Checks the layout version once; the first write into an empty directory creates the marker. */
  async #openLayout(kind: "read" | "write"): Promise<void> {
    const checked = this.#layout ?? checkLayout(this.dir);
    this.#layout = checked;
    try {
      if ((await checked) || kind === "read") return;
      if (this.#layout === checked) {
        this.#layout = createLayout(this.dir, this.#durable).then(() => true);
      }
      await this.#layout;
    } catch (error) {
      // Not cached: the next call retries once the disk is fixed.
      this.#layout = undefined;
      throw error;
    }
  }

  /**
   * Creates the workflow's directory with its workflow.json in one rename, so
   * a workflow directory always names its id. Racing creators: one rename
   * wins, the others find its directory.
   */
  async #ensureWorkflowDir(workflowDir: string, workflowId: string): Promise<void> {
    const file = join(workflowDir, WORKFLOW_FILE);
    if (await exists(file)) return;
    await removeStaleTemps(this.dir);
    const temp = tempPath(this.dir);
    try {
      await mkdir(temp);
      await writeNewFile(join(temp, WORKFLOW_FILE), JSON.stringify({ workflowId }), this.#durable);
      await syncDirectory(temp, this.#durable);
      await rename(temp, workflowDir);
      await syncDirectory(this.dir, this.#durable);
    } catch (error) {
      if (!(await exists(file))) throw error;
    } finally {
      await rm(temp, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /**
   * run.json and the true head: the last step file of the unbroken chain
   * through run.json's head. Usually that costs two stats (head there, next
   * one absent); run.json lags after a crash or a racing writer (probe
   * forward), and is ahead only after a power loss with `fsync: false` or a
   * hand edit (walk back), so an append never leaves a gap.
   */
  async #readRunState(paths: RunPaths, workflowId: string, runId?: string): Promise<RunState> {
    // Listing reads runs by directory, before their id is known.
    const notFound = () => new RunNotFoundError(workflowId, runId ?? paths.dir);
    const value = await readJsonFile(paths.runFile);
    if (value === undefined) throw notFound();
    const stored = parseRunMetadata(value, paths.runFile, { workflowId, runId });
    let headStep = stored.headStep;
    if (await exists(paths.stepFile(headStep))) {
      while (await exists(paths.stepFile(headStep + 1))) headStep += 1;
      return { stored, headStep };
    }
    // Deleted since run.json was read, rather than ahead of its steps.
    if (!(await exists(paths.runFile))) throw notFound();
    do headStep -= 1;
    while (headStep >= 0 && !(await exists(paths.stepFile(headStep))));
    if (headStep < 0) throw new CorruptRecordError(paths.stepsDir, "the run has no step files");
    return { stored, headStep };
  }

  /** The run's metadata as getRun reports it: run.json, brought up to the true head. */
  async #currentRun(paths: RunPaths, workflowId: string, runId?: string): Promise<RunMetadata> {
    const { stored, headStep } = await this.#readRunState(paths, workflowId, runId);
    if (headStep === stored.headStep) return stored;
    const head = await this.#requireStep(paths, workflowId, stored.runId, headStep);
    return advanceRunMetadata(stored, head);
  }

  async #readStep(paths: RunPaths, step: number): Promise<StepRecord | undefined> {
    const file = paths.stepFile(step);
    const value = await readJsonFile(file);
    return value === undefined ? undefined : parseStepRecord(value, file, step);
  }

  /** A step that must exist because it lies between the run's first record and its head. */
  async #requireStep(
    paths: RunPaths,
    workflowId: string,
    runId: string,
    step: number,
  ): Promise<StepRecord> {
    const record = await this.#readStep(paths, step);
    if (record) return record;
    if (!(await exists(paths.runFile))) throw new RunNotFoundError(workflowId, runId);
    throw new CorruptRecordError(
      paths.stepFile(step),
      "it is missing, though the run's head is past it",
    );
  }

  /** The run's first step number: one directory listing, needed only for runs that do not start at 0. */
  async #lowestStep(paths: RunPaths, workflowId: string, runId: string): Promise<number> {
    let lowest = Number.POSITIVE_INFINITY;
    for (const name of await listDirectory(paths.stepsDir)) {
      const step = parseStepFileName(name);
      if (step !== null && step < lowest) lowest = step;
    }
    if (lowest === Number.POSITIVE_INFINITY) throw new RunNotFoundError(workflowId, runId);
    return lowest;
  }

  /**
   * Brings run.json up to `record`. It is a hint that spares readers a probe,
   * not the truth, so this runs after the step is published, is skipped when
   * a newer step already exists (its writer refreshes it), and a failure here
   * does not undo the append: readers still find the step.
   */
  async #refreshRunFile(paths: RunPaths, stored: RunMetadata, record: StepRecord): Promise<void> {
    try {
      if (await exists(paths.stepFile(record.step + 1))) return;
      const next = advanceRunMetadata(stored, record);
      await replaceFile(paths.runFile, JSON.stringify(next), this.#durable);
    } catch {
      // Left behind; the next reader probes past it and the next append rewrites it.
    }
  }
}

/** `map` with at most READ_CONCURRENCY calls in flight, results in input order. */
async function mapConcurrently<T, R>(items: T[], map: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await map(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, items.length) }, worker));
  return results;
}
