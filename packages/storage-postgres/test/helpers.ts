// Test helpers shared by the storage-postgres test files: the server and
// schema of this run, sample records, direct SQL reads, and child processes
// running fixtures against the built package.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { StepRecord, WorkflowStorage } from "@wf/core";
import pg from "pg";
import { inject } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));

/** Connection string of the server this run uses (from test/global-setup.ts). */
export function postgresUrl(): string {
  return inject("postgresUrl");
}

/** A schema of this run's own, dropped by the global teardown. */
export function testSchema(label: string): string {
  return `${inject("schemaPrefix")}_${label}`;
}

/** Runs `work` with a plain pg client on the test server, to read what the store wrote. */
export async function withSql<T>(
  work: (client: pg.Client) => Promise<T>,
  connectionString = postgresUrl(),
): Promise<T> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export { sampleRun, sampleStep } from "@wf/storage-conformance";

/** Every record the store holds for a run, through every page of listSteps. */
export async function allSteps(
  storage: WorkflowStorage,
  workflowId: string,
  runId: string,
): Promise<StepRecord[]> {
  const records: StepRecord[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 10_000; pages++) {
    const page = await storage.listSteps(workflowId, runId, { cursor, limit: 50 });
    records.push(...page.items);
    cursor = page.nextCursor;
    if (cursor === null) return records;
  }
  throw new Error("listSteps did not end");
}

/** Resolves to the error a promise rejected with, or fails if it fulfilled. */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error("expected the operation to fail, but it succeeded");
}

/**
 * A fixture script (test/fixtures/*.mjs, importing the built package) in a
 * child node process, its stdout collected line by line and stdin open so
 * the test can start several children at the same moment.
 */
export class Fixture {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #stderr = "";
  #partial = "";
  #waiters: (() => void)[] = [];

  constructor(script: string, args: string[]) {
    const built = join(here, "..", "dist", "index.js");
    if (!existsSync(built)) {
      throw new Error(
        `Fixtures import the built package: run \`npx tsc -p tsconfig.build.json\` first (${built}).`,
      );
    }
    this.child = spawn(process.execPath, [join(here, "fixtures", script), ...args], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      const parts = (this.#partial + chunk).split("\n");
      this.#partial = parts.pop() ?? "";
      this.lines.push(...parts);
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      this.#stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => {
        for (const wake of this.#waiters.splice(0)) wake();
        resolve({ code, signal });
      });
    });
  }

  /** Resolves once the child printed `count` lines; fails if it exits first or takes over `timeoutMs`. */
  async waitForLines(count: number, timeoutMs = 30_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length < count) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`fixture exited before printing ${count} lines:\n${this.#stderr}`);
      }
      if (Date.now() > deadline) {
        this.child.kill("SIGKILL");
        throw new Error(
          `fixture printed no line ${count} within ${timeoutMs} ms:\n${this.#stderr}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.lines.slice(0, count);
  }

  send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  /**
   * The lines the child printed, once it exited by itself with code 0. A
   * child still running after `timeoutMs` is killed and the test fails: a
   * bound against a hang, not a measure of speed.
   */
  async finished(timeoutMs: number): Promise<string[]> {
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      this.exited,
      new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (outcome === "timeout") {
      this.child.kill("SIGKILL");
      throw new Error(`fixture did not exit within ${timeoutMs} ms:\n${this.#stderr}`);
    }
    if (outcome.code !== 0) {
      throw new Error(`fixture exited with ${outcome.code ?? outcome.signal}:\n${this.#stderr}`);
    }
    return this.lines;
  }
}
