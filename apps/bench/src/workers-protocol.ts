import type { BackendConfig } from "./workers-backends.js";
import type { Workload } from "./workers-workload.js";

/**
 * What the bench tells a worker process (`worker-process.ts`), as JSON on its
 * command line.
 */
export interface WorkerProcessConfig {
  backend: BackendConfig;
  queueName: string;
  workload: Workload;
  /** Jobs (runs) this process handles at once. */
  concurrency: number;
  /** Steps per job before the run is requeued. */
  stepsPerJob: number;
  /** A victim: node `n<blockAt>` never returns here. */
  blockAt?: number;
  /** Print a line for every step appended, not only for completed runs. */
  reportAppends?: boolean;
  /**
   * Open the queue and store, say `ready`, and take jobs only on `start`:
   * a process standing by to take over, started the moment it is needed.
   */
  deferStart?: boolean;
}

/**
 * What a worker process says, one line each on stdout, stamped with the
 * wall clock so the bench can time across processes.
 */
export type WorkerLine =
  | { kind: "ready" }
  | { kind: "started" }
  | { kind: "closed" }
  | { kind: "completed"; runId: string; at: number }
  | { kind: "appended"; runId: string; step: number; at: number }
  | { kind: "blocked"; key: string; at: number }
  | { kind: "failed"; runId: string; message: string };

export function formatLine(line: WorkerLine): string {
  switch (line.kind) {
    case "ready":
    case "started":
    case "closed":
      return line.kind;
    case "completed":
      return `completed ${line.runId} ${line.at}`;
    case "appended":
      return `appended ${line.runId} ${line.step} ${line.at}`;
    case "blocked":
      return `blocked ${line.key} ${line.at}`;
    case "failed":
      return `failed ${line.runId} ${line.message.replaceAll("\n", " ")}`;
  }
}

/** The line's meaning, or null for anything else a process prints. */
export function parseLine(text: string): WorkerLine | null {
  const [kind, a = "", b = "", c = ""] = text.split(" ");
  switch (kind) {
    case "ready":
    case "started":
    case "closed":
      return { kind };
    case "completed":
      return { kind, runId: a, at: Number(b) };
    case "appended":
      return { kind, runId: a, step: Number(b), at: Number(c) };
    case "blocked":
      return { kind, key: a, at: Number(b) };
    case "failed":
      return { kind, runId: a, message: text.split(" ").slice(2).join(" ") };
    default:
      return null;
  }
}

/**
 * Wall-clock milliseconds with the monotonic clock's resolution: the same
 * clock in every process on the machine, so a kill in the bench and an
 * append in a worker process can be subtracted.
 */
export function wallClock(): number {
  return performance.timeOrigin + performance.now();
}
