import type { Stats } from "node:fs";
import { link, mkdir, rename, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import {
  advanceRunMetadata,
  CorruptRecordError,
  DEFAULT_LOG_DIR,
  decodeCursor,
  encodeCursor,
  type ListRunsOptions,
  type ListStepsOptions,
  type Page,
  pageRuns,
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
  removeStaleTemps,
  STALE_TEMP_MS,
  syncDirectory,
  tempPath,
  writeNewFile,
} from "./atomic-write.js";
import { isHintOf, lastStepFrom, readHeadHint, renameToHead } from "./head.js";
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
  statIfExists,
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

/**
 * Paths a store remembers something about (when it swept a directory, which
 * run.json it checked); past this it forgets them all, which costs each one
 * sweep or read more.
 */
const REMEMBERED_PATHS = 10_000;

/** What reads need to know of a run. */
interface RunState {
  /** run.json: the run as created. */
  created: RunMetadata;
  /** The true head, found from the step files. */
  headStep: number;
  /** The head record, when head.json is the head's step file (saves reading it again). */
  head: StepRecord | undefined;
}

/**
 * The journal on the local file system, one file per step (see layout.ts).
 *
 * The step files are the truth. Step n is published with `link`, which fails
 * if step n exists, and only after step n-1 was seen: that makes the append
 * conditional across threads and processes. run.json never changes after
 * createRun; head.json, a second name of the newest step file, is the hint
 * that finds the head, and readers confirm it against the step files (see
 * head.ts).
 */
export class FileSystemStorage implements WorkflowStorage {
  readonly capabilities: StorageCapabilities = { persistent: true, retention: false };
  /** Absolute path of the journal directory. */
  readonly dir: string;
  readonly #durable: boolean;
  #closed = false;
  /** Whether the layout marker exists (checked once); writes create it when it does not. */
  #layout: Promise<boolean> | undefined;
  /** When this store last swept each directory it writes into of stale temporary files. */
  readonly #swept = new Map<string, number>();
  /** The run.json files this store checked before appending, as they were then. */
  readonly #checkedRunFiles = new Map<string, Stats>();

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
      await this.#sweep(paths.workflowDir);
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
      if (!Number.isSafeInteger(step) || step < 1) {
        throw await this.#conflict(paths, workflowId, runId, step);
      }
      await this.#sweep(paths.dir);
      const temp = tempPath(paths.dir);
      // The run checked and step n-1 looked for while the record is written.
      const [run, previous, written] = await Promise.allSettled([
        this.#checkRunFile(paths, workflowId, runId),
        exists(paths.stepFile(step - 1)),
        writeNewFile(temp, JSON.stringify(record), this.#durable),
      ]);
      try {
        if (run.status === "rejected") throw run.reason;
        if (written.status === "rejected") throw written.reason;
        if (previous.status === "rejected") throw previous.reason;
        // Step n-1 exists and steps are removed only with their run, so the
        // head is n-1 unless step n exists, and link refuses to replace it.
        if (!previous.value) throw await this.#conflict(paths, workflowId, runId, step);
        await link(temp, paths.stepFile(step));
      } catch (error) {
        await rm(temp, { force: true }).catch(() => undefined);
        if (errnoCode(error) === "EEXIST") {
          throw await this.#conflict(paths, workflowId, runId, step);
        }
        // The run was deleted while we wrote.
        if (isMissing(error) && !(await exists(paths.runFile))) {
          throw new RunNotFoundError(workflowId, runId);
        }
        throw error;
      }
      // Only the acknowledgement waits for the flush; the hint need not, as
      // every reader already sees the step.
      await Promise.all([syncDirectory(paths.stepsDir, this.#durable), renameToHead(temp, paths)]);
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
      const { headStep, head } = await this.#readRunState(paths, workflowId, runId);
      return head ?? this.#requireStep(paths, workflowId, runId, headStep);
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
      pageSize(options.limit); // a bad limit fails before any file is read
      const workflowDir = join(this.dir, workflowDirName(workflowId));
      const names = (await listDirectory(workflowDir)).filter(isRunDirName);
      // run.json and head.json per run (plus a probe for a newer step); step files are never listed.
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
      return pageRuns(
        found.filter((run): run is RunMetadata => run !== null),
        options,
      );
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
      await this.#sweep(paths.workflowDir);
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
    await this.#sweep(this.dir);
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
   * Removes temporary files that crashed writers left in `dir`, at most once
   * a minute per store: only a crash leaves them, and none counts as stale
   * before it is a minute old, so sweeping on every write would find nothing
   * new and cost an append a directory listing.
   */
  async #sweep(dir: string): Promise<void> {
    const now = Date.now();
    const last = this.#swept.get(dir);
    if (last !== undefined && now - last < STALE_TEMP_MS) return;
    if (this.#swept.size >= REMEMBERED_PATHS) this.#swept.clear();
    this.#swept.set(dir, now);
    await removeStaleTemps(dir);
  }

  /**
   * What an append knows of run.json: that it exists (else RUN_NOT_FOUND) and
   * is this run's (else CORRUPT_RECORD). It never changes after createRun, so
   * a store reads it once and afterwards only stats it, reading it again if
   * it changed.
   */
  async #checkRunFile(paths: RunPaths, workflowId: string, runId: string): Promise<void> {
    const stats = await statIfExists(paths.runFile);
    if (stats === undefined) throw new RunNotFoundError(workflowId, runId);
    const checked = this.#checkedRunFiles.get(paths.runFile);
    if (checked !== undefined && isSameVersion(checked, stats)) return;
    this.#checkedRunFiles.delete(paths.runFile);
    await this.#readRunFile(paths, workflowId, runId);
    if (this.#checkedRunFiles.size >= REMEMBERED_PATHS) this.#checkedRunFiles.clear();
    this.#checkedRunFiles.set(paths.runFile, stats);
  }

  /** run.json, checked to belong to the run; RUN_NOT_FOUND when absent. */
  async #readRunFile(paths: RunPaths, workflowId: string, runId?: string): Promise<RunMetadata> {
    const value = await readJsonFile(paths.runFile);
    // Listing reads runs by directory, before their id is known.
    if (value === undefined) throw new RunNotFoundError(workflowId, runId ?? paths.dir);
    return parseRunMetadata(value, paths.runFile, { workflowId, runId });
  }

  /**
   * run.json and the true head. With head.json naming a step on disk, that
   * costs two stats at once (its step there, the next one absent); with
   * none, or one naming a step that is not there, a search.
   */
  async #readRunState(paths: RunPaths, workflowId: string, runId?: string): Promise<RunState> {
    const [created, hint] = await Promise.all([
      this.#readRunFile(paths, workflowId, runId),
      readHeadHint(paths),
    ]);
    if (hint !== undefined) {
      const hinted = hint.record.step;
      const [atHint, pastHint] = await Promise.all([
        statIfExists(paths.stepFile(hinted)),
        exists(paths.stepFile(hinted + 1)),
      ]);
      if (atHint !== undefined && pastHint) {
        return { created, headStep: await lastStepFrom(paths, hinted + 1), head: undefined };
      }
      if (atHint !== undefined) {
        return {
          created,
          headStep: hinted,
          head: isHintOf(hint, atHint) ? hint.record : undefined,
        };
      }
    }
    return { created, headStep: await this.#searchHead(paths, created), head: undefined };
  }

  /**
   * The head without a usable hint: searched up from run.json's headStep,
   * the run's first step, in O(log n) stats (see lastStepFrom).
   */
  async #searchHead(paths: RunPaths, created: RunMetadata): Promise<number> {
    let known = created.headStep;
    if (!(await exists(paths.stepFile(known)))) {
      // Deleted since run.json was read.
      if (!(await exists(paths.runFile))) {
        throw new RunNotFoundError(created.workflowId, created.runId);
      }
      // Only a run.json rewritten by an earlier version of this adapter (or
      // by hand) can name a step that is not there: one lost in a power loss
      // with `fsync: false`.
      do known -= 1;
      while (known >= 0 && !(await exists(paths.stepFile(known))));
      if (known < 0) throw new CorruptRecordError(paths.stepsDir, "the run has no step files");
    }
    return lastStepFrom(paths, known);
  }

  /** The run's metadata as getRun reports it: run.json brought up to the true head. */
  async #currentRun(paths: RunPaths, workflowId: string, runId?: string): Promise<RunMetadata> {
    const { created, headStep, head } = await this.#readRunState(paths, workflowId, runId);
    if (headStep === created.headStep) return created;
    return advanceRunMetadata(
      created,
      head ?? (await this.#requireStep(paths, workflowId, created.runId, headStep)),
    );
  }

  /** STEP_CONFLICT for an append of `step`, naming the current head (RUN_NOT_FOUND without a run). */
  async #conflict(
    paths: RunPaths,
    workflowId: string,
    runId: string,
    step: number,
  ): Promise<StepConflictError> {
    const { headStep } = await this.#readRunState(paths, workflowId, runId);
    return new StepConflictError(workflowId, runId, step, headStep);
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
}

/** Whether two stats of one path show the same file, unchanged. */
function isSameVersion(a: Stats, b: Stats): boolean {
  return (
    a.ino === b.ino &&
    a.dev === b.dev &&
    a.size === b.size &&
    a.mtimeMs === b.mtimeMs &&
    a.ctimeMs === b.ctimeMs
  );
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
