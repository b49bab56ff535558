// The `--workers` command line: what main.ts needs to parse it, importing
// none of the queues, stores or the worker package, so that the other tables
// run without them.
import type { WorkersOptions } from "./workers.js";

/** The pairs measured: each queue with the store on the same server. */
export const QUEUE_KINDS = ["bullmq", "pg-boss"] as const;
export type QueueKind = (typeof QUEUE_KINDS)[number];

/** Worker processes per throughput row when `--workers` comes without a list. */
export const DEFAULT_WORKER_COUNTS = "1,2,4";

/** The `--workers` benchmark's options, for `parseArgs` beside the others. */
export const WORKERS_OPTIONS = {
  workers: { type: "string" },
  "worker-queues": { type: "string", default: QUEUE_KINDS.join(",") },
  "worker-runs": { type: "string", default: "200" },
  "worker-steps": { type: "string", default: "10" },
  "worker-rounds": { type: "string", default: "3" },
  "worker-concurrency": { type: "string", default: "1" },
  "worker-io-ms": { type: "string", default: "2" },
  "worker-lease": { type: "string", default: "5" },
  "worker-check": { type: "string", default: "1" },
} as const;

export const WORKERS_USAGE = `       npm run bench -- --workers [1,2,4] [--worker-queues bullmq,pg-boss] [--worker-runs 200]
                      [--worker-steps 10] [--worker-rounds 3] [--worker-concurrency 1]
                      [--worker-io-ms 2] [--worker-lease 5] [--worker-check 1] [--json]

With --workers, only the workers benchmark runs. For each queue (BullMQ with
RedisStorage, pg-boss with PostgresStorage) and each count of worker
processes: --worker-runs runs of --worker-steps nodes, each node waiting
--worker-io-ms on a timer (0: no wait), started through WorkflowClient and
run by the processes (--worker-concurrency jobs each), steps per second from
the first start to the last completion, median of --worker-rounds rounds;
beside it the same runs advanced in this process by WorkflowEngine, as many at
once. Then a worker holding runs inside a node is SIGKILLed once per round:
ms until each of its runs has a step appended by another worker, with a lease
of --worker-lease s and checks every --worker-check s (BullMQ lockDuration and
stalledInterval, pg-boss expireInSeconds and maintenanceIntervalSeconds).`;

/**
 * `--workers` alone means the default counts: parseArgs wants a value for a
 * string option, so a bare flag (last, or before another option) gets one.
 */
export function withBareWorkers(args: readonly string[]): string[] {
  return args.map((arg, index) => {
    const next = args[index + 1];
    return arg === "--workers" && (next === undefined || next.startsWith("--"))
      ? `--workers=${DEFAULT_WORKER_COUNTS}`
      : arg;
  });
}

export type WorkersValues = { [K in keyof typeof WORKERS_OPTIONS]?: string | undefined } & {
  json?: boolean | undefined;
};

function list(value: string): string[] {
  return value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
}

function integer(name: string, value: string | undefined, min: number): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min) {
    throw new RangeError(`--${name} must be an integer of at least ${min}, got ${String(value)}`);
  }
  return parsed;
}

/** The options of `benchWorkers` from the command line, refusing what cannot be measured. */
export function workersOptions(values: WorkersValues): WorkersOptions {
  const kinds = list(values["worker-queues"] ?? QUEUE_KINDS.join(","));
  const unknown = kinds.filter((kind) => !(QUEUE_KINDS as readonly string[]).includes(kind));
  if (unknown.length > 0 || kinds.length === 0) {
    throw new RangeError(
      `unknown queue(s) ${unknown.join(", ") || "(none given)"}; choose from ${QUEUE_KINDS.join(", ")}`,
    );
  }
  const workerCounts = list(values.workers ?? DEFAULT_WORKER_COUNTS).map((n) =>
    integer("workers", n, 1),
  );
  if (workerCounts.length === 0) {
    throw new RangeError(`--workers needs worker process counts, e.g. ${DEFAULT_WORKER_COUNTS}`);
  }
  return {
    kinds: kinds as QueueKind[],
    workerCounts,
    runs: integer("worker-runs", values["worker-runs"], 1),
    steps: integer("worker-steps", values["worker-steps"], 1),
    rounds: integer("worker-rounds", values["worker-rounds"], 1),
    concurrency: integer("worker-concurrency", values["worker-concurrency"], 1),
    ioMs: integer("worker-io-ms", values["worker-io-ms"], 0),
    lease: {
      leaseSeconds: integer("worker-lease", values["worker-lease"], 1),
      checkSeconds: integer("worker-check", values["worker-check"], 1),
    },
    progress: (message) => process.stderr.write(`  ${message}\n`),
  };
}
