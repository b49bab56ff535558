// Test nodes and journal readers shared by the core test files.
import {
  type MemoryStorage,
  Node,
  type NodeOptions,
  type RequestInput,
  type SharedState,
  type StepRecord,
  type WorkflowEngine,
} from "../src/index.js";

export interface ScriptOptions extends NodeOptions {
  prepare?: (shared: SharedState, requestInput: RequestInput) => unknown;
  execute?: (prepared: unknown) => unknown;
  fallback?: (prepared: unknown, error: unknown) => unknown;
  cleanup?: (shared: SharedState, prepared: unknown, result: unknown) => void | Promise<void>;
}

/** A node whose lifecycle methods are given as options, so each test states its behaviour inline. */
export class Script extends Node<SharedState, unknown, unknown, ScriptOptions> {
  override prepare(shared: SharedState, requestInput: RequestInput): unknown {
    return this.options.prepare?.(shared, requestInput);
  }

  override execute(prepared: unknown): unknown {
    return this.options.execute?.(prepared);
  }

  override execFallback(prepared: unknown, error: unknown): unknown {
    if (this.options.fallback) return this.options.fallback(prepared, error);
    return super.execFallback(prepared, error);
  }

  override async cleanup(shared: SharedState, prepared: unknown, result: unknown): Promise<void> {
    await this.options.cleanup?.(shared, prepared, result);
  }
}

/** A node that records its visit in `shared.visited`. */
export function visit(id: string, options: ScriptOptions = {}): Script {
  return new Script({
    id,
    cleanup: (shared) => {
      shared.visited = [...((shared.visited as string[] | undefined) ?? []), id];
    },
    ...options,
  });
}

/** Every record the store holds for a run, ascending by step. */
export async function storedSteps(
  storage: MemoryStorage,
  workflowId: string,
  runId: string,
): Promise<StepRecord[]> {
  const records: StepRecord[] = [];
  let cursor: string | null = null;
  do {
    const page = await storage.listSteps(workflowId, runId, { cursor });
    records.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return records;
}

/** Every record the store holds for the engine's run, ascending by step. */
export function journal(storage: MemoryStorage, engine: WorkflowEngine): Promise<StepRecord[]> {
  return storedSteps(storage, engine.workflowId, engine.runId);
}
