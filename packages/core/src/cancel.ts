import { hasErrorCode } from "./errors.js";
import { assertValidId } from "./ids.js";
import { checkStepRecord } from "./record-check.js";
import { cancelRecord } from "./records.js";
import type { WorkflowStorage } from "./storage.js";

export interface CancelRunOptions {
  /** Kept in the cancel record's error message. Default "cancelled". */
  reason?: string;
}

/** How many times `cancelRun` reads the head again after losing a race to another writer. */
const CANCEL_ATTEMPTS = 50;

/**
 * Cancels a run from anywhere, without its definition: appends a step with
 * status `cancelled` on its head. An engine or worker stepping the run at
 * the same time loses its next append (STEP_CONFLICT) and stops; a worker
 * also fires the node's signal when it sees the cancel. When another writer
 * appends first, the head is read again and the cancel retried. Resolves
 * to true when this call cancelled the run, false when the run was
 * completed or cancelled already. RUN_NOT_FOUND for an unknown run.
 */
export async function cancelRun(
  storage: WorkflowStorage,
  workflowId: string,
  runId: string,
  options: CancelRunOptions = {},
): Promise<boolean> {
  assertValidId(workflowId, "workflowId");
  assertValidId(runId, "runId");
  const reason = options.reason ?? "cancelled";
  if (typeof reason !== "string") throw new TypeError("The cancel reason must be a string.");
  for (let attempt = 1; ; attempt++) {
    const head = checkStepRecord(
      await storage.getLatestStep(workflowId, runId),
      `head of run ${JSON.stringify(runId)}`,
      { workflowId, runId },
    );
    if (head.status === "completed" || head.status === "cancelled") return false;
    const record = cancelRecord(head, {
      workflowId,
      runId,
      step: head.step + 1,
      createdAt: new Date().toISOString(),
      reason,
    });
    try {
      await storage.appendStep(record);
      return true;
    } catch (error) {
      if (!hasErrorCode(error, "STEP_CONFLICT")) throw error;
      // Writers outpacing the cancel this long is a busy loop elsewhere: say so with its conflict.
      if (attempt >= CANCEL_ATTEMPTS) throw error;
    }
  }
}
