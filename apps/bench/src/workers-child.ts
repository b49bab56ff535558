import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseLine, type WorkerLine, type WorkerProcessConfig } from "./workers-protocol.js";

const ENTRY = fileURLToPath(new URL("./worker-process.js", import.meta.url));

/**
 * A worker process as the bench drives it: its lines as they come, its
 * stderr kept for the error message should it die, and its end.
 */
export class WorkerChild {
  readonly #child: ChildProcess;
  readonly #listeners = new Set<(line: WorkerLine) => void>();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #stderr = "";
  #partial = "";
  #gone = false;

  constructor(config: WorkerProcessConfig) {
    this.#child = spawn(process.execPath, [ENTRY, JSON.stringify(config)], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.#child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      const parts = (this.#partial + chunk).split("\n");
      this.#partial = parts.pop() ?? "";
      for (const text of parts) {
        const line = parseLine(text);
        if (line) for (const listener of this.#listeners) listener(line);
      }
    });
    this.#child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      // The tail is what explains a crash; a chatty process must not grow this without bound.
      this.#stderr = (this.#stderr + chunk).slice(-8000);
    });
    this.exited = new Promise((resolve) => {
      this.#child.once("exit", (code, signal) => {
        this.#gone = true;
        for (const listener of this.#listeners) listener({ kind: "closed" });
        resolve({ code, signal });
      });
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get gone(): boolean {
    return this.#gone;
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** Calls `listener` with every line from now on; returns the unsubscribe. */
  onLine(listener: (line: WorkerLine) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Has a process started with `deferStart` take jobs, and waits until it does. */
  async start(): Promise<void> {
    let started = false;
    const off = this.onLine((line) => {
      if (line.kind === "started") started = true;
    });
    try {
      this.#child.stdin?.write("start\n");
      await until([this], "a worker process to start taking jobs", () => started, 120_000);
    } finally {
      off();
    }
  }

  /** SIGKILL, as a crash would, without waiting: the moment of the kill is the caller's to stamp. */
  kill(): void {
    if (!this.#gone) this.#child.kill("SIGKILL");
  }

  /** Asks the process to close (`close` on stdin) and waits for a clean exit; SIGKILLs it after `timeoutMs`. */
  async close(timeoutMs = 60_000): Promise<void> {
    if (this.#gone) return;
    this.#child.stdin?.write("close\n");
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      this.exited,
      new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (outcome === "timeout") {
      this.kill();
      await this.exited;
      throw new Error(
        `worker process ${this.pid} did not close within ${timeoutMs} ms; it was killed.\n${this.#stderr}`,
      );
    }
    if (outcome.code !== 0) {
      throw new Error(
        `worker process ${this.pid} exited with ${outcome.signal ?? outcome.code} on close:\n${this.#stderr}`,
      );
    }
  }
}

/**
 * Resolves once `check` holds, looking again after every line of any of
 * `children`. Rejects, saying what it waited for, if one of them exits
 * first or `timeoutMs` passes: the timeout bounds a hang, it measures nothing.
 */
export function until(
  children: readonly WorkerChild[],
  what: string,
  check: () => boolean,
  timeoutMs: number,
): Promise<void> {
  if (check()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const unsubscribe: (() => void)[] = [];
    const finish = (error?: Error) => {
      clearTimeout(timer);
      for (const off of unsubscribe) off();
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(
      () => finish(new Error(`gave up after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    );
    for (const child of children) {
      unsubscribe.push(
        child.onLine((line) => {
          if (line.kind === "closed" && child.gone) {
            finish(
              new Error(
                `worker process ${child.pid} exited while the bench waited for ${what}:\n${child.stderr}`,
              ),
            );
          } else if (check()) {
            finish();
          }
        }),
      );
      if (child.gone) {
        finish(new Error(`worker process ${child.pid} is gone; the bench waited for ${what}`));
        return;
      }
    }
  });
}

/** Starts `count` worker processes and waits until each has said `ready`. */
export async function startWorkers(
  count: number,
  config: WorkerProcessConfig,
): Promise<WorkerChild[]> {
  const children = Array.from({ length: count }, () => new WorkerChild(config));
  const ready = new Set<WorkerChild>();
  for (const child of children) {
    child.onLine((line) => {
      if (line.kind === "ready") ready.add(child);
    });
  }
  try {
    await until(children, "worker processes to start", () => ready.size === count, 120_000);
  } catch (error) {
    for (const child of children) child.kill();
    throw error;
  }
  return children;
}
