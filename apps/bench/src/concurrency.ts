import { Node, type SharedState, WorkflowEngine } from "@wf/core";
import { median } from "./stats.js";
import type { BenchTarget } from "./target.js";

export interface ConcurrencyOptions {
  /** Runs stepping at once. */
  runs: number;
  /** Connections of the pool the store and the raw writes share, where the backend has one. */
  connections: number;
  /** Steps each run takes per round, and raw writes each writer makes per round. */
  stepsPerRound: number;
  /** Rounds, each an engine phase followed by a raw phase; medians are over rounds. */
  rounds: number;
  stateBytes: number;
  progress: (message: string) => void;
}

export interface ConcurrencyResult {
  target: string;
  runs: number;
  connections: number;
  /** Engine steps per second, all runs together (median of the rounds). */
  stepsPerSecond: number;
  /** Raw durable writes per second with as many writers as runs (median of the rounds). */
  rawPerSecond: number;
}

interface LoopState extends SharedState {
  count: number;
  payload: string;
}

class Tick extends Node<LoopState> {
  override cleanup(shared: LoopState): void {
    shared.count += 1;
  }
}

/**
 * K runs stepping at once in one process against K raw writers, through the
 * same pool (or client) of fixed size. Rounds alternate an engine phase and a
 * raw phase, so both see the same machine load.
 */
export async function benchConcurrency(
  target: BenchTarget,
  options: ConcurrencyOptions,
): Promise<ConcurrencyResult> {
  const opened = await target.open({ connections: options.connections });
  try {
    const workflowId = `bench-k${options.runs}-${Date.now().toString(36)}`;
    const definition = {
      workflowId,
      storage: opened.storage,
      nodes: [new Tick({ id: "tick" })],
      edges: [{ from: "tick", to: "tick" }],
      initialState: { count: 0, payload: "x".repeat(options.stateBytes) },
    };
    const engines: WorkflowEngine<LoopState>[] = [];
    for (let i = 0; i < options.runs; i++) engines.push(await WorkflowEngine.create(definition));
    const bytes = JSON.stringify(
      await opened.storage.getLatestStep(workflowId, engines[0]?.runId as string),
    );
    let rawKey = 0;
    const enginePhase = async (steps: number) => {
      const start = performance.now();
      await Promise.all(
        engines.map(async (engine) => {
          for (let i = 0; i < steps; i++) await engine.step();
        }),
      );
      return (engines.length * steps * 1000) / (performance.now() - start);
    };
    const rawPhase = async (writes: number) => {
      const start = performance.now();
      await Promise.all(
        engines.map(async () => {
          for (let i = 0; i < writes; i++) await opened.baselineWrite(bytes, rawKey++);
        }),
      );
      return (engines.length * writes * 1000) / (performance.now() - start);
    };
    options.progress(`${target.name}: K=${options.runs} warming up`);
    await enginePhase(Math.min(10, options.stepsPerRound));
    await rawPhase(Math.min(10, options.stepsPerRound));
    const steps: number[] = [];
    const raw: number[] = [];
    for (let round = 0; round < options.rounds; round++) {
      steps.push(await enginePhase(options.stepsPerRound));
      raw.push(await rawPhase(options.stepsPerRound));
      options.progress(`${target.name}: K=${options.runs} round ${round + 1}/${options.rounds}`);
    }
    return {
      target: target.name,
      runs: options.runs,
      connections: options.connections,
      stepsPerSecond: median(steps),
      rawPerSecond: median(raw),
    };
  } finally {
    await opened.close();
  }
}
