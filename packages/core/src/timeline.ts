import { hasErrorCode, StepNotFoundError } from "./errors.js";
import type { RunMetadata, StepRecord } from "./journal.js";
import type { WorkflowStorage } from "./storage.js";

/**
 * A run's timeline is the chain of parents from a step back to step 0. A fork
 * stores only its steps from k on; below k its timeline is the source run's,
 * read through `forkedFrom` (recursively, for forks of forks).
 */

/** The run that stores step `step` of `run`'s timeline. */
async function ownerOf(
  storage: WorkflowStorage,
  run: RunMetadata,
  step: number,
): Promise<RunMetadata> {
  let owner = run;
  while (owner.forkedFrom && step < owner.forkedFrom.step) {
    owner = await storage.getRun(owner.workflowId, owner.forkedFrom.runId);
  }
  return owner;
}

/** Step `step` as seen from `run`, reading through fork sources. */
export async function readTimelineStep(
  storage: WorkflowStorage,
  run: RunMetadata,
  step: number,
): Promise<StepRecord> {
  if (step > run.headStep) {
    throw new StepNotFoundError(run.workflowId, run.runId, step, ` (the head is ${run.headStep})`);
  }
  const owner = await ownerOf(storage, run, step);
  return storage.getStep(owner.workflowId, owner.runId, step);
}

/** Every record a run stores with a step number up to `through`, by step. */
async function storedSteps(
  storage: WorkflowStorage,
  run: RunMetadata,
  through: number,
): Promise<Map<number, StepRecord>> {
  const steps = new Map<number, StepRecord>();
  let cursor: string | null = null;
  do {
    const page = await storage.listSteps(run.workflowId, run.runId, { cursor, limit: 1000 });
    for (const record of page.items) {
      if (record.step > through) return steps;
      steps.set(record.step, record);
    }
    cursor = page.nextCursor;
  } while (cursor);
  return steps;
}

/**
 * The records of the timeline ending at `last`, oldest first. Reads each run
 * on the way in pages rather than step by step. If a fork's source has been
 * deleted, the history starts at the fork point.
 */
export async function readHistory(
  storage: WorkflowStorage,
  run: RunMetadata,
  last: StepRecord,
): Promise<StepRecord[]> {
  const chain: StepRecord[] = [last];
  let owner: RunMetadata | null = run;
  let steps = await storedSteps(storage, run, last.step);
  let parent = last.parent;
  while (parent !== null && owner) {
    if (owner.forkedFrom && parent < owner.forkedFrom.step) {
      try {
        owner = await storage.getRun(owner.workflowId, owner.forkedFrom.runId);
      } catch (error) {
        if (hasErrorCode(error, "RUN_NOT_FOUND")) break;
        throw error;
      }
      steps = await storedSteps(storage, owner, parent);
      continue;
    }
    const record = steps.get(parent);
    if (!record) throw new StepNotFoundError(owner.workflowId, owner.runId, parent);
    chain.push(record);
    parent = record.parent;
  }
  return chain.reverse();
}
