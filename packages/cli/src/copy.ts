/**
 * Copying journals between two stores, keeping ids, lineage, timestamps and
 * every step, superseded branches included.
 *
 * What a reader of the destination may see while a copy runs. A run is
 * created with its first stored record and then grows one atomic append at a
 * time, in step order, exactly as it grew in the source: at every moment its
 * metadata and records equal the source run as it was when its head was at
 * that step (the same headStep, status and updatedAt). A run is never
 * visible half-written inside one step. A run whose copy is under way (or was
 * interrupted) is visible with a head below the source's, and its status is
 * the status its source had at that head: usually `running`, or
 * `waiting_for_input`/`failed` where the source waited or failed and was
 * resumed later. It shows `completed` before it is fully copied only where
 * the source itself completed and was then resumed from an earlier step (a
 * completed superseded branch): the contract has appends in step order and
 * the status mirrors the head record, so nothing else can be shown there
 * without changing the records. Running the copy again compares and
 * continues such a run, and the report says which runs it verified. A fork's
 * source run is copied before the fork, so a fork never reads its history
 * through a source that is not (yet) in the destination, unless the source
 * was deleted.
 *
 * Memory: one page of runs (`runPageSize`) and one page of records per run
 * being read (`stepPageSize`; two while a destination run is compared with
 * its source) are held at a time, plus the ids of fork sources copied ahead
 * of their place in the listing until the listing reaches them.
 */
import {
  assertValidId,
  type DamagedRun,
  hasErrorCode,
  type RunMetadata,
  type WorkflowStorage,
} from "@wf/core";
import {
  addToTotals,
  type CopyProgress,
  type CopyReport,
  emptyTotals,
  PROBLEM_OUTCOMES,
  type RunCopyResult,
} from "./copy-report.js";
import { CopyAborted, copyRun, type RunCopyContext } from "./copy-run.js";

export {
  type CopyProgressReporter,
  type CopyProgressReporterOptions,
  createCopyProgressReporter,
  formatProgressLine,
} from "./copy-progress.js";
export {
  type CopyOutcome,
  type CopyProgress,
  type CopyReport,
  type CopyTotals,
  PROBLEM_OUTCOMES,
  type RunCopyResult,
  summarizeCopy,
} from "./copy-report.js";

/** The contract's cap on a page (MAX_PAGE_SIZE). */
const MAX_PAGE = 1000;

export interface CopyOptions {
  /** The store to read. It is only read. */
  from: WorkflowStorage;
  /** The store to write. Runs already there are compared, continued or left alone; never overwritten or deleted. */
  to: WorkflowStorage;
  /** Copy only this workflow's runs. */
  workflowId?: string;
  /** Copy only this run (and the runs it was forked from); needs `workflowId`. */
  runId?: string;
  /** Called often (after every step); keep it cheap. */
  onProgress?: (progress: CopyProgress) => void;
  /** Called with each run's result as soon as it is known. */
  onRun?: (result: RunCopyResult) => void;
  /** Stops the copy between two writes; what was written is resumed by the next copy. */
  signal?: AbortSignal;
  /** Records fetched per listSteps call: the most records held per run being read. Default 100. */
  stepPageSize?: number;
  /**
   * Runs fetched per listRuns call. Default 1,000 (the contract's cap): some
   * stores read every run's metadata for each page, so fewer pages is faster.
   */
  runPageSize?: number;
  /** Walk the run listings once first, for the totals a progress bar's ETA needs. Default true. */
  count?: boolean;
  /** Keep every run's result in `report.runs` (memory grows with the runs). Default false. */
  collectRuns?: boolean;
}

function checkPageSize(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > MAX_PAGE) {
    throw new RangeError(`${name} must be an integer from 1 to ${MAX_PAGE}, got ${String(value)}`);
  }
  return value;
}

/** A run listing: either a run's metadata or a run the source could not read. */
type Listed = { run: RunMetadata } | { damaged: DamagedRun; workflowId: string };

/** The ids of the workflows to copy, a page at a time. */
async function* workflowIds(
  store: WorkflowStorage,
  only: string | undefined,
): AsyncGenerator<string> {
  if (only !== undefined) {
    yield only;
    return;
  }
  let cursor: string | null = null;
  do {
    const page = await store.listWorkflows({ cursor, limit: MAX_PAGE });
    yield* page.items;
    cursor = page.nextCursor;
  } while (cursor !== null);
}

/** Every run to copy, as the source lists it, holding one page of runs at a time. */
async function* listedRuns(
  store: WorkflowStorage,
  options: { workflowId?: string; runId?: string },
  runPageSize: number,
): AsyncGenerator<Listed> {
  if (options.workflowId !== undefined && options.runId !== undefined) {
    let listed: Listed;
    try {
      listed = { run: await store.getRun(options.workflowId, options.runId) };
    } catch (error) {
      // By code, not class: the adapter may have been built against another copy of @wf/core.
      if (!hasErrorCode(error, "CORRUPT_RECORD")) throw error;
      const { location, reason } = error as { location: string; reason: string };
      listed = {
        workflowId: options.workflowId,
        damaged: { runId: options.runId, location, reason },
      };
    }
    yield listed;
    return;
  }
  for await (const workflowId of workflowIds(store, options.workflowId)) {
    let cursor: string | null = null;
    do {
      const page = await store.listRuns(workflowId, { cursor, limit: runPageSize });
      cursor = page.nextCursor;
      for (const damaged of page.damaged) yield { workflowId, damaged };
      // Hand the runs out one by one, letting each go once it is copied.
      const runs: (RunMetadata | undefined)[] = page.items;
      for (let index = 0; index < runs.length; index++) {
        const run = runs[index] as RunMetadata;
        runs[index] = undefined;
        yield { run };
      }
    } while (cursor !== null);
  }
}

/**
 * Copies every run of `from` (or of one workflow, or one run) to `to`, then
 * checks each run it wrote or found by step count and sha256. Resolves with
 * the report, also when `signal` stopped it (`aborted`); rejects on a store
 * that fails (unreachable, misconfigured), leaving what was written resumable.
 * Damaged source runs and conflicting destination runs are reported, not fatal.
 */
export async function copyJournals(options: CopyOptions): Promise<CopyReport> {
  const { from, to, workflowId, runId, onProgress, onRun, signal } = options;
  if (runId !== undefined && workflowId === undefined) {
    throw new TypeError("copying one run needs its workflow too: give workflowId with runId");
  }
  if (workflowId !== undefined) assertValidId(workflowId, "workflowId");
  if (runId !== undefined) assertValidId(runId, "runId");
  const stepPageSize = checkPageSize("stepPageSize", options.stepPageSize, 100);
  const runPageSize = checkPageSize("runPageSize", options.runPageSize, MAX_PAGE);
  const filter = { workflowId, runId };
  const started = performance.now();
  const report: CopyReport = {
    totals: emptyTotals(),
    problems: [],
    runs: [],
    aborted: false,
    durationMs: 0,
  };
  const progress: CopyProgress = {
    phase: options.count === false ? "copying" : "counting",
    runsTotal: 0,
    stepsTotal: 0,
    totalsKnown: false,
    runsDone: 0,
    stepsDone: 0,
    stepsCopied: 0,
    current: null,
    elapsedMs: 0,
  };
  const emit = () => {
    if (!onProgress) return;
    progress.elapsedMs = performance.now() - started;
    onProgress({ ...progress, current: progress.current && { ...progress.current } });
  };

  if (progress.phase === "counting") {
    for await (const listed of listedRuns(from, filter, runPageSize)) {
      if (signal?.aborted) break;
      progress.runsTotal += 1;
      if ("run" in listed) {
        progress.stepsTotal += listed.run.headStep - (listed.run.forkedFrom?.step ?? 0) + 1;
      }
      emit();
    }
    progress.totalsKnown = true;
    progress.phase = "copying";
  }

  const finish = (result: RunCopyResult) => {
    addToTotals(report.totals, result);
    if (PROBLEM_OUTCOMES.includes(result.outcome) || result.outcome === "deleted-in-source") {
      report.problems.push(result);
    }
    if (options.collectRuns) report.runs.push(result);
    progress.runsDone += 1;
    progress.current = null;
    onRun?.(result);
    emit();
  };
  const context: RunCopyContext = {
    from,
    to,
    stepPageSize,
    signal,
    stepDone(written) {
      progress.stepsDone += 1;
      if (written) progress.stepsCopied += 1;
      emit();
    },
  };
  const copyOne = async (run: RunMetadata) => {
    if (runId !== undefined && run.runId !== runId && progress.totalsKnown) {
      // A fork source copied with the one run asked for: the counting pass did not list it.
      progress.runsTotal += 1;
      progress.stepsTotal += run.headStep - (run.forkedFrom?.step ?? 0) + 1;
    }
    progress.current = { workflowId: run.workflowId, runId: run.runId };
    emit();
    finish(await copyRun(context, run));
  };
  // Fork sources copied before their place in the listing, so they are not copied twice.
  const copiedAhead = new Set<string>();
  const key = (workflow: string, run: string) => JSON.stringify([workflow, run]);
  const copyForkSources = async (run: RunMetadata): Promise<void> => {
    const origin = run.forkedFrom;
    if (!origin || copiedAhead.has(key(run.workflowId, origin.runId))) return;
    const source = await from.getRun(run.workflowId, origin.runId).catch(notThere);
    // A deleted source leaves the fork standing alone; a damaged one is reported when listed.
    if (!source) return;
    const there = await to.getRun(run.workflowId, origin.runId).catch(notThere);
    if (there && there.headStep >= source.headStep) return;
    copiedAhead.add(key(run.workflowId, origin.runId));
    await copyForkSources(source);
    await copyOne(source);
  };

  try {
    for await (const listed of listedRuns(from, filter, runPageSize)) {
      if (signal?.aborted) throw new CopyAborted(0);
      if ("damaged" in listed) {
        finish({
          workflowId: listed.workflowId,
          runId: listed.damaged.runId,
          outcome: "damaged-in-source",
          steps: 0,
          stepsCopied: 0,
          sha256: null,
          reason: `${listed.damaged.reason} (at ${listed.damaged.location})`,
        });
        continue;
      }
      const { run } = listed;
      if (copiedAhead.delete(key(run.workflowId, run.runId))) continue;
      await copyForkSources(run);
      await copyOne(run);
    }
  } catch (error) {
    if (!(error instanceof CopyAborted)) throw error;
    report.aborted = true;
    report.totals.stepsCopied += error.stepsCopied;
  }
  progress.phase = "done";
  progress.current = null;
  report.durationMs = performance.now() - started;
  emit();
  return report;
}

/** null for a run that is not there (or cannot be read, which its own listing reports). */
function notThere(error: unknown): null {
  if (hasErrorCode(error, "RUN_NOT_FOUND") || hasErrorCode(error, "CORRUPT_RECORD")) return null;
  throw error;
}
