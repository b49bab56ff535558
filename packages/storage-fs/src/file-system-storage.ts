import type { Stats } from "node:fs";
import { link, mkdir, rename, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import {
  assertValidId,
  CorruptRecordError,
  type DamagedRun,
  DEFAULT_LOG_DIR,
  type ListRunsOptions,
  type ListStepsOptions,
  type Page,
  quoteId,
  RunExistsError,
  type RunMetadata,
  RunNotFoundError,
  type RunPage,
  StepConflictError,
  StepNotFoundError,
  type StepRecord,
  type StorageCapabilities,
  StorageClosedError,
  type WorkflowStorage,
} from "@wf/core";
import {
  assertRunIds,
  checkFromUrlOptions,
  checkListOptions,
  checkOptions,
  checkRunMetadata,
  checkStepRecord,
  decodeCursor,
  encodeCursor,
  isRunPosition,
  isStepPosition,
  isTextPosition,
  pageRuns,
  stepRecordJson,
} from "@wf/core/storage";
import {
  removeStaleTemps,
  STALE_TEMP_MS,
  syncDirectory,
  tempPath,
  writeNewFile,
} from "./atomic-write.js";
import { dirFromUrl } from "./file-url.js";
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
  runIdOfDirName,
  STEPS_DIR,
  stepFileName,
  WORKFLOW_FILE,
  workflowDirName,
} from "./layout.js";
import { errnoCode, isMissing, STORAGE_NAME, toStorageError } from "./os-errors.js";
import {
  exists,
  listDirectory,
  parseWorkflowId,
  readJsonFile,
  readRunMetadata,
  readStepRecord,
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

const OPTION_KEYS: readonly (keyof FileSystemStorageOptions)[] = ["dir", "fsync"];

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
  /** The head's JSON, not yet checked, when head.json is the head's step file (saves reading it again). */
  headJson: unknown;
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
    checkOptions("FileSystemStorage", options, OPTION_KEYS);
    const { dir = DEFAULT_LOG_DIR, fsync = true } = options;
    if (typeof dir !== "string" || dir.length === 0) {
      throw new TypeError(`dir must be a non-empty path, got ${JSON.stringify(dir)}`);
    }
    this.dir = resolve(dir);
    this.#durable = fsync;
  }

  /**
   * A store on the directory `url` names: `file:./logs` (relative to the
   * working directory), `file:///var/wf/logs`, or a plain path. `options`
   * are the other options (`fsync`); `dir` is the URL's.
   */
  static fromUrl(
    url: string,
    options: Omit<FileSystemStorageOptions, "dir"> = {},
  ): FileSystemStorage {
    checkFromUrlOptions("FileSystemStorage", url, options, OPTION_KEYS, ["dir"]);
    return new FileSystemStorage({ ...options, dir: dirFromUrl(url) });
  }

  async createRun(run: RunMetadata, first: StepRecord): Promise<void> {
    await this.#ready();
    assertRunIds(run.workflowId, run.runId);
    if (first.step !== run.headStep) {
      throw new TypeError(`first.step (${first.step}) must equal run.headStep (${run.headStep})`);
    }
    if (!Number.isSafeInteger(first.step) || first.step < 0) {
      throw new TypeError(`first.step must be a non-negative integer, got ${first.step}`);
    }
    return this.#operation("write", async () => {
      const paths = RunPaths.of(this.dir, run.workflowId, run.runId);
      // The directory, not run.json: a damaged run still holds its id.
      if (await exists(paths.dir)) throw new RunExistsError(run.workflowId, run.runId);
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

  async appendStep(record: StepRecord): Promise<void> {
    await this.#ready();
    const { workflowId, runId, step } = record;
    assertRunIds(workflowId, runId);
    return this.#operation("write", async () => {
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
        writeNewFile(temp, stepRecordJson(record), this.#durable),
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
          throw await this.#missingRun(paths, workflowId, runId);
        }
        throw error;
      }
      // Only the acknowledgement waits for the flush; the hint need not, as
      // every reader already sees the step.
      await Promise.all([syncDirectory(paths.stepsDir, this.#durable), renameToHead(temp, paths)]);
    });
  }

  async getRun(workflowId: string, runId: string): Promise<RunMetadata> {
    await this.#ready();
    assertRunIds(workflowId, runId);
    return this.#operation("read", () =>
      this.#currentRun(RunPaths.of(this.dir, workflowId, runId), workflowId, runId),
    );
  }

  async getStep(workflowId: string, runId: string, step: number): Promise<StepRecord> {
    await this.#ready();
    assertRunIds(workflowId, runId);
    return this.#operation("read", async () => {
      const paths = RunPaths.of(this.dir, workflowId, runId);
      const isStep = Number.isSafeInteger(step) && step >= 0;
      if (isStep) {
        const file = paths.stepFile(step);
        const record = await readStepRecord(file, { workflowId, runId, step });
        if (record) return record;
      }
      // Only a missing step costs finding the run's bounds: inside them it is damage.
      const { created, headStep } = await this.#readRunState(paths, workflowId, runId);
      if (isStep && step >= firstStepOf(created) && step <= headStep) {
        throw missingStep(paths, step);
      }
      throw new StepNotFoundError(workflowId, runId, step);
    });
  }

  async getLatestStep(workflowId: string, runId: string): Promise<StepRecord> {
    await this.#ready();
    assertRunIds(workflowId, runId);
    return this.#operation("read", async () => {
      const paths = RunPaths.of(this.dir, workflowId, runId);
      const { headStep, headJson } = await this.#readRunState(paths, workflowId, runId);
      if (headJson === undefined) return this.#requireStep(paths, workflowId, runId, headStep);
      return checkStepRecord(headJson, paths.stepFile(headStep), {
        workflowId,
        runId,
        step: headStep,
      });
    });
  }

  async listSteps(
    workflowId: string,
    runId: string,
    options: ListStepsOptions = {},
  ): Promise<Page<StepRecord>> {
    await this.#ready();
    assertRunIds(workflowId, runId);
    const { limit, cursor } = checkListOptions(options);
    const after = cursor === null ? -1 : decodeCursor(cursor, isStepPosition);
    return this.#operation("read", async () => {
      const paths = RunPaths.of(this.dir, workflowId, runId);
      const { created, headStep } = await this.#readRunState(paths, workflowId, runId);
      // A run's steps are contiguous from its first record to its head, so a
      // page is a range of file names, not a directory listing; a file
      // missing in that range is damage.
      const first = Math.max(after + 1, firstStepOf(created));
      const last = Math.min(headStep, first + limit - 1);
      const numbers = Array.from({ length: Math.max(last - first + 1, 0) }, (_, i) => first + i);
      const items = await mapConcurrently(numbers, (n) =>
        this.#requireStep(paths, workflowId, runId, n),
      );
      return { items, nextCursor: last < headStep ? encodeCursor(last) : null };
    });
  }

  async listRuns(workflowId: string, options: ListRunsOptions = {}): Promise<RunPage> {
    await this.#ready();
    assertValidId(workflowId, "workflowId");
    // Bad options fail before any file is read.
    const { cursor } = checkListOptions(options);
    if (cursor !== null) decodeCursor(cursor, isRunPosition);
    return this.#operation("read", async () => {
      const workflowDir = join(this.dir, workflowDirName(workflowId));
      const names = (await listDirectory(workflowDir)).filter(isRunDirName);
      // run.json and head.json per run (plus a probe for a newer step); step files are never listed.
      const found = await mapConcurrently(names, async (name) => {
        const paths = new RunPaths(workflowDir, name);
        try {
          return { run: await this.#currentRun(paths, workflowId) };
        } catch (error) {
          // Deleted while we listed.
          if (error instanceof RunNotFoundError) return null;
          if (!(error instanceof CorruptRecordError)) throw error;
          return { damaged: await damagedRun(paths, error) };
        }
      });
      const runs: RunMetadata[] = [];
      const damaged: DamagedRun[] = [];
      for (const entry of found) {
        if (entry?.run) runs.push(entry.run);
        if (entry?.damaged) damaged.push(entry.damaged);
      }
      return pageRuns(runs, options, damaged);
    });
  }

  async listWorkflows(options: ListStepsOptions = {}): Promise<Page<string>> {
    await this.#ready();
    const { limit, cursor } = checkListOptions(options);
    const after = cursor === null ? null : decodeCursor(cursor, isTextPosition);
    return this.#operation("read", async () => {
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

  async deleteRun(workflowId: string, runId: string): Promise<void> {
    await this.#ready();
    assertRunIds(workflowId, runId);
    return this.#operation("write", async () => {
      const paths = RunPaths.of(this.dir, workflowId, runId);
      await this.#sweep(paths.workflowDir);
      // Renamed out of sight first, so no reader ever sees a half-deleted run.
      // Nothing inside is read: a run whose files are damaged is deleted too.
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

  /** Fails a call on a closed store; yields first, as every call touches the disk later anyway. */
  async #ready(): Promise<void> {
    await Promise.resolve();
    if (this.#closed) throw new StorageClosedError(STORAGE_NAME);
  }

  /** Runs `body` once the layout is checked, reporting an unusable disk as STORAGE_UNAVAILABLE or STORAGE_MISCONFIGURED. */
  async #operation<T>(kind: "read" | "write", body: () => Promise<T>): Promise<T> {
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
    if (stats === undefined) throw await this.#missingRun(paths, workflowId, runId);
    const checked = this.#checkedRunFiles.get(paths.runFile);
    if (checked !== undefined && isSameVersion(checked, stats)) return;
    this.#checkedRunFiles.delete(paths.runFile);
    await this.#readRunFile(paths, workflowId, runId);
    if (this.#checkedRunFiles.size >= REMEMBERED_PATHS) this.#checkedRunFiles.clear();
    this.#checkedRunFiles.set(paths.runFile, stats);
  }

  /**
   * run.json, checked to be this run's metadata. Listing reads runs by
   * directory, before their id is known (`runId` undefined): the id run.json
   * holds must then be the one the directory's name encodes.
   */
  async #readRunFile(paths: RunPaths, workflowId: string, runId?: string): Promise<RunMetadata> {
    const run = await readRunMetadata(paths.runFile, { workflowId, runId });
    if (run === undefined) throw await this.#missingRun(paths, workflowId, runId);
    if (runId === undefined && runDirName(run.runId) !== paths.name) {
      throw new CorruptRecordError(
        paths.runFile,
        `it names run ${quoteId(run.runId)}, which is not the run of its directory`,
      );
    }
    return run;
  }

  /**
   * Why run.json is absent: RUN_NOT_FOUND when the run's directory is too
   * (never created, or deleted), CORRUPT_RECORD when it is there, since a run
   * directory appears and disappears whole.
   */
  async #missingRun(paths: RunPaths, workflowId: string, runId?: string): Promise<Error> {
    if (await exists(paths.dir)) {
      return new CorruptRecordError(paths.runFile, "it is missing from the run's directory");
    }
    return new RunNotFoundError(workflowId, runId ?? paths.name);
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
      const [atHint, pastHint] = await Promise.all([
        statIfExists(paths.stepFile(hint.step)),
        exists(paths.stepFile(hint.step + 1)),
      ]);
      if (atHint !== undefined && pastHint) {
        return { created, headStep: await lastStepFrom(paths, hint.step + 1), headJson: undefined };
      }
      if (atHint !== undefined) {
        return {
          created,
          headStep: hint.step,
          headJson: isHintOf(hint, atHint) ? hint.value : undefined,
        };
      }
    }
    return { created, headStep: await this.#searchHead(paths, created), headJson: undefined };
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
        throw await this.#missingRun(paths, created.workflowId, created.runId);
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

  /**
   * The run's metadata as getRun reports it: run.json brought up to the true
   * head, whose status and createdAt are the run's status and updatedAt.
   * Only those two fields of the head are read here, checked as the run
   * metadata they make; reading the head record checks all of it.
   */
  async #currentRun(paths: RunPaths, workflowId: string, runId?: string): Promise<RunMetadata> {
    const { created, headStep, headJson } = await this.#readRunState(paths, workflowId, runId);
    if (headStep === created.headStep) return created;
    const file = paths.stepFile(headStep);
    const head = (headJson ??
      (await this.#requireStepJson(paths, workflowId, created.runId, headStep)) ??
      {}) as Partial<StepRecord>;
    const current = { ...created, headStep, status: head.status, updatedAt: head.createdAt };
    try {
      return checkRunMetadata(current, file, { workflowId, runId: created.runId });
    } catch (error) {
      if (!(error instanceof CorruptRecordError)) throw error;
      throw new CorruptRecordError(
        file,
        `it is the run's head, whose "status" and "createdAt" make the run's status and updatedAt: ${error.reason}`,
      );
    }
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

  /** The JSON of a step that must exist, as it lies between the run's first step and its head. */
  async #requireStepJson(
    paths: RunPaths,
    workflowId: string,
    runId: string,
    step: number,
  ): Promise<unknown> {
    const value = await readJsonFile(paths.stepFile(step));
    if (value !== undefined) return value;
    if (!(await exists(paths.runFile))) throw await this.#missingRun(paths, workflowId, runId);
    throw missingStep(paths, step);
  }

  /** As #requireStepJson, checked to be that step of this run. */
  async #requireStep(
    paths: RunPaths,
    workflowId: string,
    runId: string,
    step: number,
  ): Promise<StepRecord> {
    const value = await this.#requireStepJson(paths, workflowId, runId, step);
    return checkStepRecord(value, paths.stepFile(step), { workflowId, runId, step });
  }
}

/** The run's first stored step: 0, or the step a fork starts at. */
function firstStepOf(run: RunMetadata): number {
  return run.forkedFrom?.step ?? 0;
}

/** CORRUPT_RECORD for a step file missing between the run's first step and its head. */
function missingStep(paths: RunPaths, step: number): CorruptRecordError {
  return new CorruptRecordError(
    paths.stepFile(step),
    "it is missing, though it lies between the run's first step and its head",
  );
}

/**
 * A run listing could not read, as listRuns reports it. Its id is the one
 * its directory's name encodes or, for a long id hashed into the name, the
 * one a file of the run still holds; failing both, the directory's name,
 * and the reason says to remove it by hand.
 */
async function damagedRun(paths: RunPaths, error: CorruptRecordError): Promise<DamagedRun> {
  const { location, reason } = error;
  const runId = runIdOfDirName(paths.name) ?? (await runIdFromFiles(paths));
  if (runId !== undefined) return { runId, location, reason };
  return {
    runId: paths.name,
    location,
    reason: `${reason}; no file of the run names its id, so deleteRun cannot reach it: remove ${paths.dir} by hand`,
  };
}

/** The run id that run.json, head.json or one of the first step files holds, if it is this directory's. */
async function runIdFromFiles(paths: RunPaths): Promise<string | undefined> {
  const steps = (await listDirectory(paths.stepsDir).catch(() => []))
    .filter((name) => parseStepFileName(name) !== null)
    .sort()
    .slice(0, 2)
    .map((name) => join(paths.stepsDir, name));
  for (const file of [paths.runFile, paths.headFile, ...steps]) {
    // Best effort: these files are damaged already, and one that cannot be read names nothing.
    const value = await readJsonFile(file).catch(() => undefined);
    const runId = (value as { runId?: unknown } | null | undefined)?.runId;
    if (typeof runId === "string" && runDirName(runId) === paths.name) return runId;
  }
  return undefined;
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
