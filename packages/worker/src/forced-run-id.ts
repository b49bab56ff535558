import type { RunMetadata, StepRecord, WorkflowStorage } from "@wf/core";
import { overriding } from "./delegate.js";

/**
 * `storage` whose `createRun` stores the new run under `runId`: the engine
 * generates run ids itself, and a run started through the queue must get the
 * id the client already handed out.
 */
export function withRunId(storage: WorkflowStorage, runId: string): WorkflowStorage {
  return overriding(storage, {
    createRun: (run: RunMetadata, first: StepRecord) =>
      storage.createRun({ ...run, runId }, { ...first, runId }),
  });
}
