import type { Node, SharedState, StepContext } from "@wf/core";
import { overriding } from "./delegate.js";

/** Which retry the job is on, read by the wrapped nodes of one job. */
export interface RetryContext {
  /** Retries already made of the node the next step runs (0 on a first attempt). */
  attempt: number;
  /** Enqueues the delayed job that runs the node again; called before the failed step is appended. */
  schedule(retry: number, delayMs: number): Promise<void>;
  /** When the retry scheduled during the current step runs, or null: journalled as the failure's `retryAt`. */
  scheduledAt: Date | null;
}

/**
 * The node as the worker's engine sees it: no in-process retries (the engine
 * would sleep between them), and a fallback that, while the node has retries
 * left, schedules a delayed job and rethrows, so the step is journalled as
 * failed and the retry happens later, on any worker. On the last attempt the
 * node's own fallback runs, as it would in process.
 */
export function withQueueRetries<Shared extends SharedState>(
  node: Node<Shared>,
  context: RetryContext,
): Node<Shared> {
  return overriding(node, {
    maxRetries: 0,
    execFallback: async (prepared: unknown, error: unknown, step?: StepContext) => {
      const attempt = context.attempt;
      if (attempt < node.maxRetries) {
        await context.schedule(attempt + 1, node.retryDelay(attempt + 1));
        throw error;
      }
      return node.execFallback(prepared, error, step);
    },
  });
}
