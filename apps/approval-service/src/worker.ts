#!/usr/bin/env node
/**
 * One worker process: takes approval runs from the shared queue and advances
 * them. `main` forks N of these; on another machine, run `main --role
 * worker` (or this file directly, with the same flags) against the same
 * servers and namespace, and it shares the work.
 *
 * Prints one JSON line per event on stdout (`ready`, `completed`, …), which
 * is how `main` and the tests know it has started.
 */
import { pathToFileURL } from "node:url";
import { Worker, type WorkerLogger } from "@wf/worker";
import { openBackend } from "./backend.js";
import { ConfigError, parseConfig, type ServiceConfig, USAGE } from "./config.js";
import {
  HttpNotifier,
  HttpRiskChecker,
  type Notifier,
  type RiskChecker,
  SimulatedRiskChecker,
  StdoutNotifier,
} from "./services.js";
import { approvalWorkflow } from "./workflow.js";

export interface RunningWorker {
  /**
   * Lets each job in progress finish its step (for at most CLOSE_TIMEOUT_MS,
   * then gives the step up), hands its run back to the queue, then closes
   * queue and store.
   */
  close(): Promise<void>;
}

/**
 * How long a closing worker lets its steps in progress finish before it
 * gives them up and hands their jobs back; main waits longer than this
 * before it kills a worker.
 */
export const CLOSE_TIMEOUT_MS = 10_000;

function line(fields: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ pid: process.pid, ...fields })}\n`);
}

/** The worker's logger: warnings and errors as JSON lines on stderr, the rest dropped. */
const logger: WorkerLogger = {
  debug() {},
  info() {},
  warn: (fields, message) =>
    process.stderr.write(`${JSON.stringify({ level: "warn", message, ...fields })}\n`),
  error: (fields, message) =>
    process.stderr.write(`${JSON.stringify({ level: "error", message, ...fields })}\n`),
};

/** The risk checker and notifier the flags ask for. */
export function servicesFor(config: ServiceConfig): { risk: RiskChecker; notifier: Notifier } {
  return {
    risk: config.riskUrl
      ? new HttpRiskChecker(config.riskUrl)
      : new SimulatedRiskChecker(config.riskDelayMs),
    notifier: config.notifyUrl ? new HttpNotifier(config.notifyUrl) : new StdoutNotifier(),
  };
}

/** Starts a worker on the configured backend and reports its events as JSON lines. */
export async function startWorker(config: ServiceConfig): Promise<RunningWorker> {
  const backend = openBackend(config);
  const worker = new Worker({
    storage: backend.storage,
    queue: backend.queue,
    workflows: [approvalWorkflow(servicesFor(config))],
    concurrency: config.concurrency,
    sweepIntervalMs: config.sweepIntervalMs,
    closeTimeoutMs: CLOSE_TIMEOUT_MS,
    logger,
  });
  worker.on("waiting", ({ runId, step }) => line({ event: "waiting", runId, step }));
  worker.on("completed", ({ runId, step }) => line({ event: "completed", runId, step }));
  worker.on("cancelled", ({ runId, step }) => line({ event: "cancelled", runId, step }));
  worker.on("retryScheduled", ({ runId, step, attempt, delayMs }) =>
    line({ event: "retryScheduled", runId, step, attempt, delayMs }),
  );
  worker.on("failed", ({ runId, step, message }) =>
    line({ event: "failed", runId, step, message }),
  );
  worker.on("deadLettered", ({ runId, message }) =>
    line({ event: "deadLettered", runId, message }),
  );
  try {
    await worker.start();
  } catch (error) {
    await backend.close();
    throw error;
  }
  let closing: Promise<void> | null = null;
  return {
    close() {
      closing ??= (async () => {
        try {
          await worker.close();
        } finally {
          await backend.close();
        }
      })();
      return closing;
    },
  };
}

/** Runs as a process: start, report `ready`, close on SIGTERM/SIGINT or when the parent goes away. */
async function main(argv: readonly string[]): Promise<void> {
  // A parent gone means a closed pipe: losing a status line must not crash the worker.
  process.stdout.on("error", () => {});
  const parsed = parseConfig(argv);
  if (parsed.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const running = await startWorker(parsed.config);
  line({ event: "ready", backend: parsed.config.backend, concurrency: parsed.config.concurrency });
  let stopping = false;
  const stop = (why: string) => {
    // Ctrl-C reaches every process of the group, then main forwards SIGTERM: close once.
    if (stopping) return;
    stopping = true;
    line({ event: "closing", why });
    running.close().then(
      () => {
        line({ event: "closed" });
        process.exit(0);
      },
      (error: unknown) => {
        process.stderr.write(`approval-service worker: close failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  // Forked by main: a parent that dies (even by SIGKILL) must not leave workers behind.
  if (process.send) process.once("disconnect", () => stop("parent gone"));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    const message =
      error instanceof ConfigError ? error.message : ((error as Error).stack ?? String(error));
    process.stderr.write(`approval-service worker: ${message}\n`);
    process.exit(1);
  });
}
