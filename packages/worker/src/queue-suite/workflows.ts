import type { WorkflowSpec } from "@wf/core";
import { Node, type RequestInput, type SharedState, type StepContext } from "@wf/core";

/** Appends its id to `shared.visited`; counts its executions in `runs` (per run id) when given. */
export class Visit extends Node {
  constructor(
    id: string,
    readonly executions?: Map<string, number>,
  ) {
    super({ id });
  }
  override prepare(shared: SharedState): unknown {
    return shared.runKey;
  }
  override execute(runKey: unknown): void {
    if (this.executions) {
      const key = `${String(runKey)}:${this.id}`;
      this.executions.set(key, (this.executions.get(key) ?? 0) + 1);
    }
  }
  override cleanup(shared: SharedState): void {
    shared.visited = [...((shared.visited as string[] | undefined) ?? []), this.id];
  }
}

/** Asks for an approval and keeps it in `shared.approved`. */
export class Ask extends Node<SharedState, string> {
  override async prepare(_shared: SharedState, requestInput: RequestInput) {
    return requestInput<string>("approve?");
  }
  override cleanup(shared: SharedState, answer: string): void {
    shared.approved = answer;
  }
}

/** Fails its first `failures` executions per run, then succeeds. */
export class Flaky extends Node {
  readonly attempts = new Map<string, number>();
  fallbacks = 0;
  constructor(
    readonly failures: number,
    options: { maxRetries: number; retryDelayMs: number },
  ) {
    super({ id: "flaky", ...options });
  }
  override prepare(shared: SharedState): unknown {
    return shared.runKey;
  }
  override execute(runKey: unknown): string {
    const count = (this.attempts.get(String(runKey)) ?? 0) + 1;
    this.attempts.set(String(runKey), count);
    if (count <= this.failures) throw new Error(`attempt ${count} failed`);
    return "ok";
  }
  override execFallback(_prepared: unknown, error: unknown): never {
    this.fallbacks += 1;
    throw error;
  }
}

/** A chain of `length` Visit nodes: a0 → a1 → … */
export function chain(
  workflowId: string,
  length: number,
  executions?: Map<string, number>,
): WorkflowSpec {
  const nodes = Array.from({ length }, (_, index) => new Visit(`a${index}`, executions));
  const edges = nodes.slice(1).map((node, index) => ({ from: `a${index}`, to: node.id }));
  return { workflowId, nodes, edges };
}

/**
 * Blocks in execute until its step's signal fires, the first `blockingRuns`
 * times it runs (over all runs); later executions return at once. Reports
 * each start and each signal, so tests act at the right moment.
 */
export class Blocking extends Node {
  readonly started: StepContext[] = [];
  readonly aborted: { step: number; reason: string }[] = [];
  constructor(
    id: string,
    readonly blockingRuns = 1,
  ) {
    super({ id });
  }
  override execute(_prepared: unknown, context: StepContext): Promise<string> | string {
    this.started.push(context);
    if (this.started.length > this.blockingRuns) return "quick";
    return new Promise<string>((resolve) => {
      const onAbort = () => {
        const reason = context.signal.reason;
        this.aborted.push({
          step: context.step,
          reason: reason instanceof Error ? reason.message : String(reason),
        });
        resolve("aborted");
      };
      if (context.signal.aborted) onAbort();
      else context.signal.addEventListener("abort", onAbort, { once: true });
    });
  }
  override cleanup(shared: SharedState, _prepared: unknown, result: unknown): void {
    shared[this.id] = result as string;
  }
}
