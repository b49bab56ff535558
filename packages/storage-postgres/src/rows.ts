import type { RunMetadata, RunStatus, StepRecord } from "@wf/core";
import { checkRunMetadata, checkStepRecord, parseRecordJson } from "@wf/core/storage";

/** The columns of a `runs` row that, with the stored JSON, make a RunMetadata. */
export interface RunRow {
  metadata: string;
  head_step: number;
  status: RunStatus;
  updated_at: string;
}

/** Where a run's row lives, as CORRUPT_RECORD names it: `schema.runs` and the key. */
function runLocation(schema: string, workflowId: string, runId: string): string {
  return `${schema}.runs (workflow_id ${JSON.stringify(workflowId)}, run_id ${JSON.stringify(runId)})`;
}

/** Where a step's row lives: `schema.steps` and the key. */
export function stepLocation(
  schema: string,
  workflowId: string,
  runId: string,
  step: number,
): string {
  return `${schema}.steps (workflow_id ${JSON.stringify(workflowId)}, run_id ${JSON.stringify(runId)}, step ${step})`;
}

/**
 * The run's metadata: the JSON stored at creation, checked, with the columns
 * an append moves (head, status, update time) laid over it and checked again,
 * since those columns are bookkeeping that can be damaged too. Assigning to
 * keys the object already has keeps their order, so the result serialises as
 * `advanceRunMetadata` would have made it.
 */
export function runFromRow(
  row: RunRow,
  schema: string,
  workflowId: string,
  runId: string,
): RunMetadata {
  const key = runLocation(schema, workflowId, runId);
  const location = `${key}, column metadata`;
  const run = checkRunMetadata(parseRecordJson(row.metadata, location), location, {
    workflowId,
    runId,
  });
  run.headStep = row.head_step;
  run.status = row.status;
  run.updatedAt = row.updated_at;
  return checkRunMetadata(run, `${key}, columns head_step, status, updated_at`);
}

/** Step `step` of a run from its stored JSON text, checked to be that step of that run. */
export function stepFromText(
  text: string,
  schema: string,
  workflowId: string,
  runId: string,
  step: number,
): StepRecord {
  const location = stepLocation(schema, workflowId, runId, step);
  return checkStepRecord(parseRecordJson(text, location), location, { workflowId, runId, step });
}
