import { Node, type SharedState, type WorkflowSpec } from "@wf/core";

/**
 * What every run of the workers benchmark does, identical in the worker
 * processes and in the in-process baseline: a chain of `steps` nodes, each
 * waiting `ioMs` on a timer (a stand-in for a call to another service: the
 * wait is what lets more workers, or more runs at once, help) and adding 1
 * to a counter. No other work, no other I/O than the journal's.
 */
export interface Workload {
  workflowId: string;
  /** Nodes in the chain: each run appends this many steps after its step 0. */
  steps: number;
  /** Milliseconds each node waits on a timer; 0 for no wait at all. */
  ioMs: number;
}

/** Told when a node that never returns is entered: the run's key. */
export type OnBlocked = (key: string) => void;

/**
 * A node of the chain. The state is `{ key, count }` (see `initialState`):
 * the key names the run to the bench, which is how a victim reports the
 * runs it holds.
 */
class Work extends Node {
  readonly #ioMs: number;
  readonly #onBlocked: OnBlocked | undefined;

  constructor(id: string, ioMs: number, onBlocked: OnBlocked | undefined) {
    super({ id });
    this.#ioMs = ioMs;
    this.#onBlocked = onBlocked;
  }

  override prepare(shared: SharedState): string {
    return String(shared.key);
  }

  override async execute(key: unknown): Promise<void> {
    if (this.#onBlocked) {
      this.#onBlocked(String(key));
      // Held inside the node until the process is killed: the crash lands mid-step.
      await new Promise(() => {});
    }
    if (this.#ioMs > 0) await new Promise((resolve) => setTimeout(resolve, this.#ioMs));
  }

  override cleanup(shared: SharedState): void {
    shared.count = Number(shared.count) + 1;
  }
}

/**
 * The workload's definition. With `blockAt`, node `n<blockAt>` calls
 * `onBlocked` and never returns: a victim process runs that variant, with
 * the same node ids, so its runs are the same runs to every other worker.
 */
export function workloadSpec(
  workload: Workload,
  block?: { at: number; onBlocked: OnBlocked },
): WorkflowSpec {
  const nodes = Array.from(
    { length: workload.steps },
    (_, index) =>
      new Work(`n${index}`, workload.ioMs, index === block?.at ? block.onBlocked : undefined),
  );
  const edges = nodes.slice(1).map((node, index) => ({ from: `n${index}`, to: node.id }));
  return { workflowId: workload.workflowId, nodes, edges };
}

/** Step 0 of a run of the workload. */
export function initialState(key: string): { key: string; count: number } {
  return { key, count: 0 };
}

/** Describes the workload in words, for the tables' notes. */
export function describeWorkload(workload: Omit<Workload, "workflowId">): string {
  const work =
    workload.ioMs > 0
      ? `waits ${workload.ioMs} ms on a timer (simulated I/O) and adds 1 to a counter`
      : "adds 1 to a counter (no I/O, no wait)";
  return `${workload.steps} nodes in a chain; each ${work}`;
}
