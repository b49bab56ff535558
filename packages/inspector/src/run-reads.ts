/**
 * Everything the inspector reads, through the storage contract only, so any
 * adapter (third-party ones included) works. Nothing here lists every step of
 * a run to show it: a page of the timeline is read step by step with
 * `getStep`, a step's state is read alone.
 */
import {
  hasErrorCode,
  type JsonValue,
  RUN_STATUSES,
  type RunMetadata,
  type RunStatus,
  type StepRecord,
  type WorkflowStorage,
} from "@wf/core";
import diff from "microdiff";
import type {
  BranchView,
  RunView,
  StateChange,
  StatusCounts,
  StepSummary,
  StepView,
  TimelineRow,
} from "./api-types.js";

/** Most rows one timeline request reads. */
export const MAX_RANGE = 200;
/** Steps read at once, so a page of the timeline does not open hundreds of files or queries at once. */
const READ_CONCURRENCY = 16;
/** Runs a count or a search reads at most: past this the answer says it is incomplete. */
export const RUN_SCAN_LIMIT = 20_000;

export function summarize(record: StepRecord): StepSummary {
  return {
    step: record.step,
    parent: record.parent,
    ownerRunId: record.runId,
    createdAt: record.createdAt,
    status: record.status,
    previousNodeId: record.previousNodeId,
    nextNodeId: record.nextNodeId,
    prompt: record.awaitingInput?.prompt ?? null,
    errorMessage: record.error?.message ?? null,
  };
}

/**
 * The runs that store a run's timeline: the run itself from `fromStep` on,
 * then its fork source below that, and so on. A deleted source ends the chain
 * with `missing`.
 */
export interface TimelineOwner {
  run: RunMetadata | null;
  runId: string;
  /** Lowest step this owner stores for the timeline. */
  fromStep: number;
}

export async function timelineOwners(
  storage: WorkflowStorage,
  run: RunMetadata,
): Promise<TimelineOwner[]> {
  const owners: TimelineOwner[] = [];
  let current: RunMetadata | null = run;
  const seen = new Set<string>();
  while (current && !seen.has(current.runId)) {
    seen.add(current.runId);
    const origin: RunMetadata["forkedFrom"] = current.forkedFrom;
    owners.push({ run: current, runId: current.runId, fromStep: origin ? origin.step : 0 });
    if (!origin) break;
    try {
      current = await storage.getRun(run.workflowId, origin.runId);
    } catch (error) {
      if (!hasErrorCode(error, "RUN_NOT_FOUND")) throw error;
      owners.push({ run: null, runId: origin.runId, fromStep: 0 });
      current = null;
    }
  }
  return owners;
}

function ownerFor(owners: TimelineOwner[], step: number): TimelineOwner {
  return owners.find((owner) => step >= owner.fromStep) ?? (owners.at(-1) as TimelineOwner);
}

/** Reads one step as seen from the run whose timeline `owners` describes. */
export async function readStep(
  storage: WorkflowStorage,
  owners: TimelineOwner[],
  step: number,
): Promise<StepRecord> {
  const owner = ownerFor(owners, step);
  if (!owner.run) {
    throw new MissingSourceError(owner.runId, step);
  }
  return storage.getStep(owner.run.workflowId, owner.runId, step);
}

export class MissingSourceError extends Error {
  constructor(
    readonly runId: string,
    readonly step: number,
  ) {
    super(`step ${step} lives in run ${runId}, which was deleted`);
    this.name = "MissingSourceError";
  }
}

async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>) {
  const results: R[] = new Array(items.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Timeline rows `from`..`to` (inclusive, clamped to the head). */
export async function readRange(
  storage: WorkflowStorage,
  run: RunMetadata,
  from: number,
  to: number,
): Promise<TimelineRow[]> {
  const owners = await timelineOwners(storage, run);
  const last = Math.min(to, run.headStep, from + MAX_RANGE - 1);
  const steps: number[] = [];
  for (let step = Math.max(0, from); step <= last; step++) steps.push(step);
  return mapLimited(steps, READ_CONCURRENCY, async (step): Promise<TimelineRow> => {
    try {
      return summarize(await readStep(storage, owners, step));
    } catch (error) {
      if (error instanceof MissingSourceError) return { step, missing: error.message };
      if (hasErrorCode(error, "STEP_NOT_FOUND") || hasErrorCode(error, "CORRUPT_RECORD")) {
        return { step, missing: error instanceof Error ? error.message : String(error) };
      }
      throw error;
    }
  });
}

export async function readRunView(
  storage: WorkflowStorage,
  workflowId: string,
  runId: string,
  actions: RunView["actions"],
): Promise<RunView> {
  const run = await storage.getRun(workflowId, runId);
  const headRecord = await storage.getLatestStep(workflowId, runId);
  const owners = await timelineOwners(storage, run);
  const lineage = owners.slice(1).map((owner, index) => ({
    runId: owner.runId,
    step: (owners[index] as TimelineOwner).fromStep,
    missing: owner.run === null,
  }));
  // The head record may be newer than the metadata read just before it.
  const current =
    headRecord.step > run.headStep
      ? {
          ...run,
          headStep: headRecord.step,
          status: headRecord.status,
          updatedAt: headRecord.createdAt,
        }
      : run;
  return {
    run: current,
    head: summarize(headRecord),
    headView: await stepViewOf(storage, owners, headRecord),
    lineage,
    actions,
  };
}

/** microdiff over two states; a state that is not an object is compared as `{ value }`. */
export function diffStates(before: JsonValue | null, after: JsonValue): StateChange[] {
  const asObject = (value: JsonValue | null): Record<string, unknown> =>
    value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : value === null
        ? {}
        : { value };
  return diff(asObject(before), asObject(after)) as StateChange[];
}

export async function readStepView(
  storage: WorkflowStorage,
  run: RunMetadata,
  step: number,
): Promise<StepView> {
  const owners = await timelineOwners(storage, run);
  return stepViewOf(storage, owners, await readStep(storage, owners, step));
}

async function stepViewOf(
  storage: WorkflowStorage,
  owners: TimelineOwner[],
  record: StepRecord,
): Promise<StepView> {
  let parentShared: JsonValue | null = null;
  if (record.parent !== null) {
    try {
      parentShared = (await readStep(storage, owners, record.parent)).shared;
    } catch (error) {
      if (!(error instanceof MissingSourceError)) throw error;
    }
  }
  return {
    record,
    ownerRunId: record.runId,
    previousStep: record.parent,
    changes: diffStates(parentShared, record.shared),
  };
}

/**
 * Steps on the head's timeline, from the branch starts: walking back from the
 * head, each branch is the range from its start to the current step, then the
 * walk goes on from the start's parent.
 */
export function timelineRanges(
  headStep: number,
  starts: { step: number; parent: number | null }[],
): [number, number][] {
  const sorted = [...starts].sort((a, b) => a.step - b.step);
  const ranges: [number, number][] = [];
  let current: number | null = headStep;
  while (current !== null && current >= 0) {
    const at: number = current;
    let start: { step: number; parent: number | null } | undefined;
    for (const candidate of sorted) {
      if (candidate.step <= at) start = candidate;
      else break;
    }
    if (!start) {
      ranges.push([0, at]);
      break;
    }
    ranges.push([start.step, at]);
    current = start.parent;
  }
  return ranges.reverse();
}

interface ScanCache {
  headStep: number;
  starts: { step: number; parent: number | null }[];
}

/**
 * Finds where a run's branches start by reading its records in pages (the one
 * read of a whole run the inspector makes, done after the run is shown and
 * kept, so a growing run only reads its new steps).
 */
export class BranchScanner {
  readonly #cache = new Map<string, ScanCache>();
  /** Scans under way, so that a page opened twice does not read a long run twice at once. */
  readonly #scanning = new Map<string, Promise<ScanCache>>();

  constructor(
    readonly storage: WorkflowStorage,
    /** The forks of a run, from the (cached) survey of its workflow's runs. */
    readonly forksOf: (run: RunMetadata) => Promise<ForkOfRun[]>,
  ) {}

  async branches(run: RunMetadata): Promise<BranchView> {
    const key = `${run.workflowId}/${run.runId}`;
    let scan = this.#cache.get(key);
    if (!scan || scan.headStep > run.headStep || run.headStep - scan.headStep > MAX_RANGE) {
      let scanning = this.#scanning.get(key);
      if (!scanning) {
        scanning = this.#scan(run).finally(() => this.#scanning.delete(key));
        this.#scanning.set(key, scanning);
      }
      scan = await scanning;
    }
    if (scan.headStep < run.headStep) {
      // The run grew since: read only its new steps.
      const grown: ScanCache = { headStep: run.headStep, starts: [...scan.starts] };
      const owners = await timelineOwners(this.storage, run);
      for (let step = scan.headStep + 1; step <= run.headStep; step++) {
        const record = await readStep(this.storage, owners, step);
        if (step > 0 && record.parent !== step - 1)
          grown.starts.push({ step, parent: record.parent });
      }
      scan = grown;
    }
    if (scan.headStep === run.headStep) this.#cache.set(key, scan);
    const starts = scan.starts.filter((start) => start.step <= run.headStep);
    return {
      headStep: run.headStep,
      branchStarts: starts,
      onTimeline: timelineRanges(run.headStep, starts),
      forks: await this.forksOf(run),
    };
  }

  async #scan(run: RunMetadata): Promise<ScanCache> {
    const starts: { step: number; parent: number | null }[] = [];
    const owners = await timelineOwners(this.storage, run);
    for (let index = 0; index < owners.length; index++) {
      const owner = owners[index] as TimelineOwner;
      const below = index === 0 ? run.headStep + 1 : (owners[index - 1] as TimelineOwner).fromStep;
      if (!owner.run) break;
      let cursor: string | null = null;
      do {
        const page = await this.storage.listSteps(run.workflowId, owner.runId, {
          cursor,
          limit: 1000,
        });
        for (const record of page.items) {
          if (record.step < owner.fromStep || record.step >= below) continue;
          if (record.step > 0 && record.parent !== record.step - 1) {
            starts.push({ step: record.step, parent: record.parent });
          }
        }
        const last = page.items.at(-1);
        cursor = last && last.step >= below ? null : page.nextCursor;
      } while (cursor);
    }
    return { headStep: run.headStep, starts: starts.sort((a, b) => a.step - b.step) };
  }
}

/** Reads up to RUN_SCAN_LIMIT runs, newest first; true when it read them all. */
export async function scanRuns(
  storage: WorkflowStorage,
  workflowId: string,
  status: RunStatus | undefined,
  visit: (run: RunMetadata) => void,
): Promise<{ scanned: number; complete: boolean }> {
  let cursor: string | null = null;
  let scanned = 0;
  do {
    const page = await storage.listRuns(workflowId, {
      cursor,
      limit: 1000,
      ...(status ? { status } : {}),
    });
    for (const run of page.items) visit(run);
    scanned += page.items.length;
    cursor = page.nextCursor;
  } while (cursor && scanned < RUN_SCAN_LIMIT);
  return { scanned, complete: cursor === null };
}

export interface ForkOfRun {
  runId: string;
  step: number;
}

/** What one read of a workflow's runs tells: the counts per status and which runs were forked from which. */
export interface WorkflowSurvey {
  counts: StatusCounts;
  forksBySource: Map<string, ForkOfRun[]>;
}

export async function surveyRuns(
  storage: WorkflowStorage,
  workflowId: string,
): Promise<WorkflowSurvey> {
  const byStatus = Object.fromEntries(RUN_STATUSES.map((status) => [status, 0])) as Record<
    RunStatus,
    number
  >;
  const forksBySource = new Map<string, ForkOfRun[]>();
  const { scanned, complete } = await scanRuns(storage, workflowId, undefined, (run) => {
    byStatus[run.status] += 1;
    if (run.forkedFrom) {
      const forks = forksBySource.get(run.forkedFrom.runId) ?? [];
      forks.push({ runId: run.runId, step: run.forkedFrom.step });
      forksBySource.set(run.forkedFrom.runId, forks);
    }
  });
  for (const forks of forksBySource.values()) forks.sort((a, b) => a.step - b.step);
  return { counts: { total: scanned, byStatus, complete }, forksBySource };
}
