import { randomBytes } from "node:crypto";
import { type RunStatus, WorkflowEngine, type WorkflowStorage } from "@wf/core";
import { type RunQueue, WorkflowClient } from "@wf/worker";
import { median } from "./stats.js";
import type { QueueKind } from "./workers-args.js";
import {
  BACKEND_LABELS,
  type BackendConfig,
  describeLease,
  type LeaseSettings,
  openQueue,
  openStorage,
  prepareBackend,
  readyQueue,
} from "./workers-backends.js";
import { startWorkers, until, type WorkerChild } from "./workers-child.js";
import { type WorkerProcessConfig, wallClock } from "./workers-protocol.js";
import { describeWorkload, initialState, type Workload, workloadSpec } from "./workers-workload.js";

export interface WorkersOptions {
  kinds: readonly QueueKind[];
  /** Worker processes per throughput row, e.g. [1, 2, 4]. */
  workerCounts: readonly number[];
  /** Runs per round. */
  runs: number;
  /** Nodes (steps after step 0) per run. */
  steps: number;
  /** Timed rounds per row; the table gives the median. Recovery kills one worker per round. */
  rounds: number;
  /** Runs each worker process handles at once in the throughput rows (Worker `concurrency`). */
  concurrency: number;
  /** Milliseconds each node waits on a timer, 0 for none. */
  ioMs: number;
  lease: LeaseSettings;
  progress: (message: string) => void;
}

export interface ThroughputResult {
  backend: QueueKind;
  label: string;
  workers: number;
  /** Runs in flight at once: worker processes times each one's concurrency, and the in-process baseline's. */
  runsAtOnce: number;
  /** Steps per second through the worker processes, first start to last completion (median of the rounds). */
  stepsPerSecond: number;
  /** The same runs advanced in this process by WorkflowEngine on the same store, as many at once (median). */
  inProcessStepsPerSecond: number;
}

export interface RecoveryResult {
  backend: QueueKind;
  label: string;
  /** The lease settings, in the binding's option names. */
  settings: string;
  leaseSeconds: number;
  checkSeconds: number;
  /** Runs the killed workers held, over every round counted; each is timed. */
  heldRuns: number;
  /** From the SIGKILL until another worker appended a step to the run: median and max over the held runs. */
  medianMs: number;
  maxMs: number;
  /**
   * Rounds run again because a held run moved on before the kill: pg-boss
   * hands a job on when its lease runs out, whether its worker lives or
   * not, so a lease shorter than the processes' start leaves nothing to time.
   */
  roundsRepeated: number;
}

export interface WorkersReport {
  workload: string;
  throughput: ThroughputResult[];
  recovery: RecoveryResult[];
  failures: { backend: string; error: string }[];
}

/** Steps a worker runs per job before requeueing the run (the Worker's default). */
export const STEPS_PER_JOB = 10;

/** Runs the killed worker holds in each recovery round (its concurrency, and the standby's). */
export const RECOVERY_HELD_RUNS = 4;

/** Bounds a hang of the runs of one round; it decides nothing. */
const ROUND_TIMEOUT_MS = 600_000;

/**
 * Throughput of 1, 2, 4… worker processes on each queue and its store,
 * against the same runs advanced in this process, then the time a killed
 * worker's runs take to move on.
 */
export async function benchWorkers(options: WorkersOptions): Promise<WorkersReport> {
  const report: WorkersReport = {
    workload: describeWorkload(options),
    throughput: [],
    recovery: [],
    failures: [],
  };
  for (const kind of options.kinds) {
    const label = BACKEND_LABELS[kind];
    process.stderr.write(`${label}…\n`);
    try {
      const backend = await prepareBackend(kind, options.lease);
      try {
        for (const workers of options.workerCounts) {
          report.throughput.push(await throughputRow(backend.config, workers, options));
        }
        report.recovery.push(await recoveryRow(backend.config, options));
      } finally {
        await backend.cleanup();
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      report.failures.push({ backend: kind, error: message });
      process.stderr.write(`  ${label} could not be measured: ${message}\n`);
    }
  }
  return report;
}

/** A workflow id and queue name of their own, so nothing else on the server meets them. */
function freshNames(tag: string): { workflowId: string; queueName: string } {
  const id = `${tag}_${randomBytes(3).toString("hex")}`;
  return { workflowId: `bench-workers-${id.replaceAll("_", "-")}`, queueName: `bench_${id}` };
}

/** Opens the row's queue and store, and readies both before any worker process uses them. */
async function openRow(
  config: BackendConfig,
  queueName: string,
  workflowId: string,
  connections: number,
): Promise<{ queue: RunQueue; storage: WorkflowStorage; close(): Promise<void> }> {
  const queue = openQueue(config, queueName);
  const storage = openStorage(config, connections);
  const close = async () => {
    await queue.close();
    await storage.close();
  };
  try {
    await readyQueue(queue);
    // Migrates PostgreSQL's schema once, here, rather than in every process at once.
    await storage.listRuns(workflowId, {});
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
  return { queue, storage, close };
}

async function closeAll(children: readonly WorkerChild[]): Promise<void> {
  const results = await Promise.allSettled(children.map((child) => child.close()));
  const failed = results.find((result) => result.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

async function throughputRow(
  config: BackendConfig,
  workers: number,
  options: WorkersOptions,
): Promise<ThroughputResult> {
  const label = BACKEND_LABELS[config.kind];
  const { workflowId, queueName } = freshNames(`w${workers}`);
  const workload: Workload = { workflowId, steps: options.steps, ioMs: options.ioMs };
  const runsAtOnce = workers * options.concurrency;
  // As many connections as runs in flight, as the worker processes have between them.
  const row = await openRow(config, queueName, workflowId, runsAtOnce);
  let children: WorkerChild[] = [];
  try {
    const childConfig: WorkerProcessConfig = {
      backend: config,
      queueName,
      workload,
      concurrency: options.concurrency,
      stepsPerJob: STEPS_PER_JOB,
    };
    options.progress(`${label}: starting ${workers} worker process(es)`);
    children = await startWorkers(workers, childConfig);
    const completed = new Map<string, number>();
    const failed: string[] = [];
    for (const child of children) {
      child.onLine((line) => {
        if (line.kind === "completed") completed.set(line.runId, line.at);
        if (line.kind === "failed") failed.push(`${line.runId}: ${line.message}`);
      });
    }
    const client = new WorkflowClient({ storage: row.storage, queue: row.queue });
    const spec = workloadSpec(workload);

    const throughWorkers = async (runs: number, round: string): Promise<number> => {
      const start = wallClock();
      const started = await Promise.all(
        Array.from({ length: runs }, (_, index) =>
          client.start(workflowId, { initialState: initialState(`${round}-${index}`) }),
        ),
      );
      const runIds = started.map(({ runId }) => runId);
      await until(
        children,
        `${runs} runs to complete on ${workers} worker process(es)`,
        () => failed.length > 0 || runIds.every((runId) => completed.has(runId)),
        ROUND_TIMEOUT_MS,
      );
      if (failed.length > 0) throw new Error(`a run failed in a worker process: ${failed[0]}`);
      const end = Math.max(...runIds.map((runId) => completed.get(runId) as number));
      await expectCompleted(row.storage, workload, runIds);
      return (runs * options.steps * 1000) / (end - start);
    };

    const inProcess = async (runs: number, round: string): Promise<number> => {
      let next = 0;
      const start = wallClock();
      await Promise.all(
        Array.from({ length: runsAtOnce }, async () => {
          while (next < runs) {
            const index = next++;
            const engine = await WorkflowEngine.create({
              ...spec,
              storage: row.storage,
              initialState: initialState(`${round}-local-${index}`),
            });
            const status = await engine.run();
            if (status !== "completed") {
              throw new Error(`in-process run ${engine.runId} ended ${status}, not completed`);
            }
          }
        }),
      );
      return (runs * options.steps * 1000) / (wallClock() - start);
    };

    // Connections, JIT and the queue's scripts warm up outside the timed rounds.
    const warmRuns = Math.min(options.runs, Math.max(2 * runsAtOnce, Math.ceil(options.runs / 4)));
    await throughWorkers(warmRuns, "warm");
    await inProcess(warmRuns, "warm");
    const viaWorkers: number[] = [];
    const local: number[] = [];
    for (let round = 0; round < options.rounds; round++) {
      viaWorkers.push(await throughWorkers(options.runs, `r${round}`));
      local.push(await inProcess(options.runs, `r${round}`));
      options.progress(
        `${label}: ${workers} worker(s) round ${round + 1}/${options.rounds}: ` +
          `${viaWorkers.at(-1)?.toFixed(0)} steps/s, in-process ${local.at(-1)?.toFixed(0)}`,
      );
    }
    return {
      backend: config.kind,
      label,
      workers,
      runsAtOnce,
      stepsPerSecond: median(viaWorkers),
      inProcessStepsPerSecond: median(local),
    };
  } finally {
    try {
      await closeAll(children);
    } finally {
      for (const child of children) child.kill();
      await row.close();
    }
  }
}

/** Every run completed, with one step per node: what the throughput counted happened. */
async function expectCompleted(
  storage: WorkflowStorage,
  workload: Workload,
  runIds: readonly string[],
): Promise<void> {
  for (const runId of runIds) {
    const run = await storage.getRun(workload.workflowId, runId);
    const status: RunStatus = run.status;
    if (status !== "completed" || run.headStep !== workload.steps) {
      throw new Error(
        `run ${runId} is ${status} at step ${run.headStep}; expected completed at step ${workload.steps}`,
      );
    }
  }
}

/** Held runs taken over before the kill make a round not count; it is run again, this many times at most. */
const MAX_REPEATS_PER_ROUND = 3;

async function recoveryRow(
  config: BackendConfig,
  options: WorkersOptions,
): Promise<RecoveryResult> {
  const label = BACKEND_LABELS[config.kind];
  const { workflowId, queueName } = freshNames("recovery");
  const workload: Workload = { workflowId, steps: options.steps, ioMs: options.ioMs };
  // The victim appends steps 1..blockAt, then holds each run inside node n<blockAt>.
  const blockAt = Math.floor(options.steps / 2);
  const held = RECOVERY_HELD_RUNS;
  const row = await openRow(config, queueName, workflowId, held);
  const client = new WorkflowClient({ storage: row.storage, queue: row.queue });
  const childConfig: WorkerProcessConfig = {
    backend: config,
    queueName,
    workload,
    concurrency: held,
    stepsPerJob: STEPS_PER_JOB,
  };
  const delays: number[] = [];
  let repeated = 0;
  const children: WorkerChild[] = [];
  // Generous: the lease, the check interval and a retry delay, many times over.
  const handBackTimeoutMs = (options.lease.leaseSeconds + options.lease.checkSeconds + 1) * 10_000;
  try {
    for (let round = 0; round < options.rounds; ) {
      // Both processes start together; the rescuer stands by, taking no job until the victim holds its runs.
      const [[victim], [rescuer]] = await Promise.all([
        startWorkers(1, { ...childConfig, blockAt }),
        startWorkers(1, { ...childConfig, reportAppends: true, deferStart: true }),
      ]);
      if (!victim || !rescuer) throw new Error("the victim and rescuing processes did not start");
      children.push(victim, rescuer);
      const blocked = new Set<string>();
      victim.onLine((line) => {
        if (line.kind === "blocked") blocked.add(line.key);
      });
      const moved = new Map<string, number>();
      const done = new Set<string>();
      rescuer.onLine((line) => {
        if (line.kind === "appended" && !moved.has(line.runId)) moved.set(line.runId, line.at);
        if (line.kind === "completed") done.add(line.runId);
      });
      const attempt = `r${round}a${repeated}`;
      const runIds: string[] = [];
      for (let index = 0; index < held; index++) {
        const { runId } = await client.start(workflowId, {
          initialState: initialState(`${attempt}-${index}`),
        });
        runIds.push(runId);
      }
      await until(
        [victim, rescuer],
        `the victim to hold ${held} runs inside node n${blockAt}`,
        () => blocked.size === held,
        ROUND_TIMEOUT_MS,
      );
      await rescuer.start();
      victim.kill();
      const killedAt = wallClock();
      await victim.exited;
      await until(
        [rescuer],
        `another worker to append a step to each of the ${held} runs the killed worker held`,
        () => runIds.every((runId) => moved.has(runId)),
        handBackTimeoutMs,
      );
      await until(
        [rescuer],
        "the rescued runs to complete",
        () => runIds.every((runId) => done.has(runId)),
        ROUND_TIMEOUT_MS,
      );
      await expectCompleted(row.storage, workload, runIds);
      await rescuer.close();
      const since = runIds.map((runId) => (moved.get(runId) as number) - killedAt);
      if (since.some((ms) => ms < 0)) {
        // pg-boss hands a job on when its lease runs out, whether its worker lives or not.
        repeated += 1;
        options.progress(
          `${label}: recovery round ${round + 1}: a held run moved on before the kill (lease ran out first); repeating the round`,
        );
        if (repeated > MAX_REPEATS_PER_ROUND * options.rounds) {
          throw new Error(
            `held runs kept moving on before the kill in ${repeated} rounds: the ${options.lease.leaseSeconds} s lease ran out while the processes started. Give a longer --worker-lease.`,
          );
        }
        continue;
      }
      delays.push(...since);
      round += 1;
      options.progress(
        `${label}: recovery round ${round}/${options.rounds}: ${held} runs moved on within ${Math.max(...since).toFixed(0)} ms of the SIGKILL`,
      );
    }
    return {
      backend: config.kind,
      label,
      settings: describeLease(config.kind, options.lease),
      leaseSeconds: options.lease.leaseSeconds,
      checkSeconds: options.lease.checkSeconds,
      heldRuns: delays.length,
      medianMs: median(delays),
      maxMs: Math.max(...delays),
      roundsRepeated: repeated,
    };
  } finally {
    for (const child of children) child.kill();
    await Promise.all(children.map((child) => child.exited));
    await row.close();
  }
}
