import { createHash } from "node:crypto";

/**
 * The run id `WorkflowClient.start` uses for an idempotency key: a hash of
 * workflow id and key, so any process derives the same id without a lookup
 * table, and the store's RUN_EXISTS makes the second start a no-op.
 */
export function runIdForKey(workflowId: string, idempotencyKey: string): string {
  const digest = createHash("sha256").update(`${workflowId}\u0000${idempotencyKey}`).digest("hex");
  return `key-${digest.slice(0, 40)}`;
}
