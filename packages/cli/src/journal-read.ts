import type {
  DamagedRun,
  ListRunsOptions,
  RunMetadata,
  StepRecord,
  WorkflowStorage,
} from "@wf/core";

/** Every run of a workflow, newest first, a page at a time; damaged runs go to `damaged`. */
export async function* eachRun(
  storage: WorkflowStorage,
  workflowId: string,
  options: { status?: ListRunsOptions["status"]; damaged?: DamagedRun[] } = {},
): AsyncGenerator<RunMetadata> {
  let cursor: string | null = null;
  do {
    const page = await storage.listRuns(workflowId, { cursor, status: options.status, limit: 500 });
    options.damaged?.push(...page.damaged);
    yield* page.items;
    cursor = page.nextCursor;
  } while (cursor);
}

/** Every record a run stores, by step, a page at a time. */
export async function* eachStep(
  storage: WorkflowStorage,
  workflowId: string,
  runId: string,
): AsyncGenerator<StepRecord> {
  let cursor: string | null = null;
  do {
    const page = await storage.listSteps(workflowId, runId, { cursor, limit: 500 });
    yield* page.items;
    cursor = page.nextCursor;
  } while (cursor);
}

/** Every workflow id, ascending. */
export async function* eachWorkflow(storage: WorkflowStorage): AsyncGenerator<string> {
  let cursor: string | null = null;
  do {
    const page = await storage.listWorkflows({ cursor, limit: 500 });
    yield* page.items;
    cursor = page.nextCursor;
  } while (cursor);
}

/** The runs forked from `runId` (which read part of their history through it). */
export async function forksOf(
  storage: WorkflowStorage,
  workflowId: string,
  runId: string,
): Promise<RunMetadata[]> {
  const forks: RunMetadata[] = [];
  for await (const run of eachRun(storage, workflowId)) {
    if (run.forkedFrom?.runId === runId) forks.push(run);
  }
  return forks;
}

/** One entry of a run's timeline: a record and the run that stores it (a fork's source, below the fork point). */
export interface TimelineEntry {
  record: StepRecord;
  storedIn: string;
  /** Not on the timeline that ends at the head: a branch left behind by a resume from an earlier step. */
  superseded: boolean;
}

/**
 * The steps of a run in step order: those on the timeline ending at the head
 * (through fork sources), and with `all` also the superseded branches the run
 * stores. Reads the run twice (parents, then records) so that only step
 * numbers, never states, are held for the whole run.
 */
export async function* eachTimelineStep(
  storage: WorkflowStorage,
  run: RunMetadata,
  options: { all: boolean },
): AsyncGenerator<TimelineEntry> {
  const onTimeline = await timelineSteps(storage, run);
  const sources: RunMetadata[] = [];
  for (let owner = run; owner.forkedFrom; ) {
    const source: RunMetadata | null = await storage
      .getRun(owner.workflowId, owner.forkedFrom.runId)
      .catch(() => null);
    if (!source) break;
    sources.unshift(source);
    owner = source;
  }
  // The fork sources' part of the timeline first (oldest source first), then the run's own steps.
  const owners = [...sources, run];
  for (const [index, owner] of owners.entries()) {
    const below = owners[index + 1]?.forkedFrom?.step ?? Number.POSITIVE_INFINITY;
    for await (const record of eachStep(storage, owner.workflowId, owner.runId)) {
      if (record.step >= below) break;
      const superseded = onTimeline.get(owner.runId)?.has(record.step) !== true;
      if (superseded && (!options.all || owner !== run)) continue;
      yield { record, storedIn: owner.runId, superseded };
    }
  }
}

/** For the run and each fork source, the step numbers on the timeline that ends at the run's head. */
async function timelineSteps(
  storage: WorkflowStorage,
  run: RunMetadata,
): Promise<Map<string, Set<number>>> {
  const result = new Map<string, Set<number>>();
  let owner: RunMetadata | null = run;
  let from: number | null = run.headStep;
  while (owner && from !== null) {
    const parents = new Map<number, number | null>();
    for await (const record of eachStep(storage, owner.workflowId, owner.runId)) {
      if (record.step > from) break;
      parents.set(record.step, record.parent);
    }
    const steps = new Set<number>();
    result.set(owner.runId, steps);
    let step: number | null = from;
    while (step !== null && parents.has(step)) {
      steps.add(step);
      step = parents.get(step) ?? null;
    }
    // Below a fork's first stored step the timeline goes on in its source.
    if (step !== null && owner.forkedFrom && step < owner.forkedFrom.step) {
      const sourceId: string = owner.forkedFrom.runId;
      owner = await storage.getRun(owner.workflowId, sourceId).catch(() => null);
      from = step;
    } else {
      owner = null;
    }
  }
  return result;
}
