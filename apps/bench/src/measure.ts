import { Node, type SharedState, WorkflowEngine } from "@wf/core";
import { median, timeEach } from "./stats.js";
import type { BenchTarget } from "./target.js";

export interface BenchOptions {
  /** History length of the "long" measurements. */
  longHistory: number;
  /** Steps timed at each history length. */
  samples: number;
  /** Loads and forks timed at each history length. */
  lookups: number;
  /** Bytes of state carried in every step. */
  stateBytes: number;
  progress: (message: string) => void;
}

/** Medians in ms at history 10 (`short`) and at `longHistory` (`long`). */
export interface AtBothLengths {
  short: number;
  long: number;
}

export interface BenchResult {
  target: string;
  /** An engine step: run the node, check and serialise the state, append. */
  stepMs: AtBothLengths;
  /** `storage.appendStep` of a ready record: the adapter's own cost. */
  appendMs: AtBothLengths;
  /** The raw durable write of the same bytes, timed alternately with the appends. */
  baselineMs: AtBothLengths;
  latestMs: AtBothLengths;
  /** A fork from the head (`WorkflowEngine.create` with `fork`). */
  forkMs: AtBothLengths;
  bytesPerStep: number;
  requestsPerStep: number | null;
  longHistory: number;
}

interface BenchState extends SharedState {
  count: number;
  target: number;
  payload: string;
}

/** The cheapest possible node, so the numbers are the journal's. */
class Tick extends Node<BenchState> {
  override cleanup(shared: BenchState): void {
    shared.count += 1;
  }
}

function definition(workflowId: string, stateBytes: number) {
  return {
    workflowId,
    nodes: [new Tick({ id: "tick" })],
    edges: [{ from: "tick", to: "tick", when: (s: BenchState) => s.count < s.target }],
    initialState: { count: 0, target: Number.MAX_SAFE_INTEGER, payload: "x".repeat(stateBytes) },
  };
}

export async function benchTarget(
  target: BenchTarget,
  options: BenchOptions,
): Promise<BenchResult> {
  const opened = await target.open();
  try {
    const { storage } = opened;
    const workflowId = `bench-${Date.now().toString(36)}`;
    const base = { ...definition(workflowId, options.stateBytes), storage };
    // Run A is stepped by the engine; run B, of the same length, gets ready
    // records appended directly, which times the adapter alone.
    const engine = await WorkflowEngine.create(base);
    const direct = await WorkflowEngine.create(base);
    let template = await storage.getLatestStep(workflowId, direct.runId);
    let directHead = 0;
    const appendDirect = () => {
      directHead += 1;
      return storage.appendStep({ ...template, step: directHead, parent: directHead - 1 });
    };

    const advanceTo = async (history: number) => {
      const every = Math.max(1, Math.floor(history / 10));
      while (engine.currentStep < history) {
        await engine.step();
        await appendDirect();
        if (engine.currentStep % every === 0) {
          options.progress(`${target.name}: history ${engine.currentStep}/${history}`);
        }
      }
    };

    // The raw write is timed alternately with the step and the append, so
    // all three see the same machine load, disk cache and server state.
    let bytes = "";
    // Keys of the raw writes: distinct across both lengths, whatever they are.
    let rawKey = 0;
    const measureAt = async (history: number, sizeStore: boolean) => {
      await advanceTo(history);
      const latest = await storage.getLatestStep(workflowId, engine.runId);
      template = { ...latest, runId: direct.runId };
      bytes ||= JSON.stringify(latest);
      const steps: number[] = [];
      const appends: number[] = [];
      const raw: number[] = [];
      let requests = 0;
      const bytesBefore = sizeStore ? ((await opened.bytesStored?.()) ?? 0) : 0;
      for (let i = 0; i < options.samples; i++) {
        steps.push(...(await timeEach(1, () => engine.step())));
        const before = opened.requests?.() ?? 0;
        appends.push(...(await timeEach(1, appendDirect)));
        requests += (opened.requests?.() ?? 0) - before;
        raw.push(...(await timeEach(1, () => opened.baselineWrite(bytes, rawKey++))));
      }
      const storedBytes = sizeStore ? ((await opened.bytesStored?.()) ?? 0) - bytesBefore : 0;
      const lookups = await timeEach(options.lookups, () =>
        storage.getLatestStep(workflowId, engine.runId),
      );
      const forks = await timeEach(options.lookups, () =>
        WorkflowEngine.create({ ...base, runId: engine.runId, fork: true }),
      );
      return {
        steps,
        appends,
        raw,
        lookups,
        forks,
        requestsPerStep: requests / options.samples,
        // Both runs grew by `samples` steps.
        bytesPerStep: Math.round(storedBytes / (2 * options.samples)),
      };
    };

    // Warm-up (JIT, connections, caches) on a run of its own, not measured.
    options.progress(`${target.name}: warming up`);
    const warmup = await WorkflowEngine.create(base);
    for (let i = 0; i < Math.min(100, options.samples); i++) {
      await warmup.step();
      await opened.baselineWrite(JSON.stringify(warmup.shared), -1 - i);
    }

    options.progress(`${target.name}: measuring at history 10`);
    // The store is sized around the short measurement only: a step's bytes do
    // not depend on the run's length, and sizing a long run (listing every
    // object of it, on S3) can take longer than the rest of the measurement.
    const short = await measureAt(10, true);
    const long = await measureAt(options.longHistory, false);
    const both = (pick: (m: typeof short) => number[]) => ({
      short: median(pick(short)),
      long: median(pick(long)),
    });
    return {
      target: target.name,
      stepMs: both((m) => m.steps),
      appendMs: both((m) => m.appends),
      baselineMs: both((m) => m.raw),
      latestMs: both((m) => m.lookups),
      forkMs: both((m) => m.forks),
      bytesPerStep: opened.bytesStored ? short.bytesPerStep : Buffer.byteLength(bytes),
      requestsPerStep: opened.requests ? long.requestsPerStep : null,
      longHistory: options.longHistory,
    };
  } finally {
    await opened.close();
  }
}
