import type { StepRecord, WorkflowStorage } from "@wf/core";
import { collectPages } from "@wf/storage-conformance";

/** Every record a run stores, through `listSteps` pages. */
export function readSteps(
  storage: WorkflowStorage,
  workflowId: string,
  runId: string,
): Promise<StepRecord[]> {
  return collectPages((cursor) => storage.listSteps(workflowId, runId, { cursor, limit: 1000 }));
}

/** Every run id of a workflow, and the runs a listing reported as damaged. */
export async function listRunIds(
  storage: WorkflowStorage,
  workflowId: string,
): Promise<{ runIds: string[]; damaged: string[] }> {
  const runIds: string[] = [];
  const damaged: string[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 100_000; pages++) {
    const page = await storage.listRuns(workflowId, { cursor, limit: 100 });
    runIds.push(...page.items.map((run) => run.runId));
    // Older adapters return a plain page without `damaged`.
    damaged.push(
      ...((page as { damaged?: { runId: string }[] }).damaged ?? []).map((d) => d.runId),
    );
    cursor = page.nextCursor;
    if (cursor === null) return { runIds, damaged };
  }
  throw new Error(`listRuns of ${workflowId} did not end`);
}

/**
 * Where a run's timeline breaks, as sentences: step numbers not 0..n in order,
 * or a record whose parent is not the step before it (the torture never
 * resumes from an earlier step, so every timeline is a straight line).
 */
export function timelineBreaks(records: readonly StepRecord[]): string[] {
  const breaks: string[] = [];
  records.forEach((record, index) => {
    if (record.step !== index) breaks.push(`record ${index} of the listing is step ${record.step}`);
    const parent = index === 0 ? null : index - 1;
    if (record.parent !== parent) {
      breaks.push(`step ${record.step} has parent ${record.parent}, not ${parent}`);
    }
  });
  return breaks;
}
