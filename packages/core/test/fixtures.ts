// Test nodes and journal readers shared by the core test files.
import {
  type MemoryStorage,
  Node,
  type NodeOptions,
  type RequestInput,
  type SharedState,
  type StepContext,
  type StepRecord,
  type WorkflowEngine,
} from "../src/index.js";

export interface ScriptOptions extends NodeOptions {
  prepare?: (shared: SharedState, requestInput: RequestInput, context: StepContext) => unknown;
  execute?: (prepared: unknown, context: StepContext) => unknown;
  fallback?: (prepared: unknown, error: unknown, context?: StepContext) => unknown;
  cleanup?: (
    shared: SharedState,
    prepared: unknown,
    result: unknown,
    context: StepContext,
  ) => void | Promise<void>;
}

/** A node whose lifecycle methods are given as options, so each test states its behaviour inline. */
export class Script extends Node<SharedState, unknown, unknown, ScriptOptions> {
  override prepare(shared: SharedState, requestInput: RequestInput, context: StepContext): unknown {
    return this.options.prepare?.(shared, requestInput, context);
  }

  override execute(prepared: unknown, context: StepContext): unknown {
    return this.options.execute?.(prepared, context);
  }

  override execFallback(prepared: unknown, error: unknown, context?: StepContext): unknown {
    if (this.options.fallback) return this.options.fallback(prepared, error, context);
    return super.execFallback(prepared, error);
  }

  override async cleanup(
    shared: SharedState,
    prepared: unknown,
    result: unknown,
    context: StepContext,
  ): Promise<void> {
    await this.options.cleanup?.(shared, prepared, result, context);
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
