// Helpers adapters' option tests share: a run journalled through the engine
// on a store (to see where a URL or option put it), and the message of a
// constructor's TypeError. No vitest here, like the rest of the records entry.
import { Node, WorkflowEngine, type WorkflowStorage } from "@wf/core";

class CountOnce extends Node<{ count: number }> {
  override cleanup(shared: { count: number }): void {
    shared.count += 1;
  }
}

/** Runs a one-node workflow to completion on `storage` (its state ends `{ count: 1 }`); resolves to the run id. */
export async function runOnce(storage: WorkflowStorage, workflowId = "from-url"): Promise<string> {
  const engine = await WorkflowEngine.create({
    workflowId,
    nodes: [new CountOnce({ id: "count" })],
    initialState: { count: 0 },
    storage,
  });
  await engine.run();
  return engine.runId;
}

/** The message of the TypeError `build` throws; throws itself if `build` throws anything else or nothing. */
export function typeErrorOf(build: () => unknown): string {
  try {
    build();
  } catch (error) {
    if (error instanceof TypeError) return error.message;
    throw new Error(`expected a TypeError, got ${String(error)}`, { cause: error });
  }
  throw new Error("expected a TypeError, nothing was thrown");
}
