/**
 * Cancelling a run from the page. It goes through `cancelRun` of @wf/core,
 * which appends a `cancelled` step on the run's head without a definition,
 * so it works on every workflow the inspector shows, loaded with
 * `--definition` or not.
 */
import { cancelRun, type WorkflowStorage } from "@wf/core";
import type { CancelRequest, CancelResult } from "./api-types.js";

/** The reason journalled when the page sends none. */
export const DEFAULT_CANCEL_REASON = "cancelled in the inspector";
/** Longest reason kept: a reason is a sentence, not a document. */
export const MAX_REASON_LENGTH = 1_000;

/** The request body as a CancelRequest; TypeError or RangeError naming what is wrong otherwise. */
export function parseCancelRequest(body: unknown): Required<CancelRequest> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new TypeError('The request body must be a JSON object, such as { "reason": "…" }.');
  }
  const { reason } = body as Record<string, unknown>;
  if (reason === undefined || reason === null) return { reason: DEFAULT_CANCEL_REASON };
  if (typeof reason !== "string") {
    throw new TypeError(`reason must be a string, got ${JSON.stringify(reason)}.`);
  }
  if (reason.length > MAX_REASON_LENGTH) {
    throw new RangeError(
      `reason must be at most ${MAX_REASON_LENGTH} characters, got ${reason.length}: say it shorter.`,
    );
  }
  return { reason: reason.trim() === "" ? DEFAULT_CANCEL_REASON : reason };
}

/** The refusal when the run had ended already: the route answers it with 409. */
export class NotCancellable extends Error {
  override name = "NotCancellable";
  readonly code = "NOT_CANCELLABLE";
}

/**
 * Cancels the run, or throws NotCancellable when it was completed or
 * cancelled already (nothing is written then). RUN_NOT_FOUND as usual.
 */
export async function cancelFromPage(
  storage: WorkflowStorage,
  workflowId: string,
  runId: string,
  request: Required<CancelRequest>,
): Promise<CancelResult> {
  const done = await cancelRun(storage, workflowId, runId, { reason: request.reason });
  const run = await storage.getRun(workflowId, runId);
  if (!done) {
    throw new NotCancellable(
      `Run ${runId} is ${run.status === "cancelled" ? "cancelled" : "completed"} already (head step ${run.headStep}): there is nothing to cancel.`,
    );
  }
  return { runId, cancelled: true, status: run.status, headStep: run.headStep };
}
