// Test helpers shared by the storage-fs test files: temporary directories,
// sample records, seeded runs, reading whole runs, and child processes
// running fixtures.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { StepRecord, WorkflowStorage } from "@wf/core";
import { sampleRun, sampleStep } from "@wf/storage-conformance";
import { afterEach, beforeEach } from "vitest";
import { FileSystemStorage } from "../src/index.js";
import { RunPaths } from "../src/layout.js";

const here = dirname(fileURLToPath(import.meta.url));

/** A fresh directory under the OS temp dir for each test, removed after it. */
export function useTempDir(label: string): () => string {
  let dir: string | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), `wf-fs-${label}-`));
  });
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });
  return () => {
    if (!dir) throw new Error("useTempDir: no test is running");
    return dir;
  };
}

export { sampleRun, sampleStep };

/** A store on `dir` holding run `runId` of `workflowId` with steps 0..head, and the run's paths. */
export async function seed(dir: string, workflowId: string, runId: string, head: number) {
  const storage = new FileSystemStorage({ dir });
  await storage.createRun(sampleRun(workflowId, runId), sampleStep(workflowId, runId, 0));
  for (let step = 1; step <= head; step++) {
    await storage.appendStep(sampleStep(workflowId, runId, step));
  }
  return { storage, paths: RunPaths.of(dir, workflowId, runId) };
}

/** The error `promise` rejects with; fails the test if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error("expected the operation to fail, but it succeeded");
}

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

/** Every path under `dir` (files and directories), relative to it. */
export async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.map(String).sort();
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A fixture script run by a child node process, with its stdout collected line by line. */
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
      throw new Error(`Fixtures import the built package: run \`npm run build\` first (${built}).`);
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
      this.child.on("close", (code, signal) => {
        for (const wake of this.#waiters.splice(0)) wake();
        resolve({ code, signal });
      });
    });
  }

  /** Writes one line to the child's stdin. */
  send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** Resolves once the child printed at least `count` lines; rejects if it exits or `timeoutMs` passes first. */
  async waitForLines(count: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let done = false;
    void this.exited.then(() => {
      done = true;
    });
    while (this.lines.length < count) {
      if (done) throw new Error(`fixture exited after ${this.lines.length} lines: ${this.#stderr}`);
      if (Date.now() > deadline) throw new Error(`fixture printed ${this.lines.length} lines`);
      await Promise.race([
        new Promise<void>((wake) => this.#waiters.push(wake)),
        sleep(Math.max(deadline - Date.now(), 0)),
      ]);
    }
  }

  /** Kills the child with SIGKILL, as a crash would, and waits until it is gone. */
  async crash(): Promise<void> {
    this.child.kill("SIGKILL");
    await this.exited;
  }

  /** Waits for a normal exit; rejects with the child's stderr if it failed or `timeoutMs` passes. */
  async finished(timeoutMs = 30_000): Promise<string[]> {
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    const { code, signal } = await this.exited;
    clearTimeout(timer);
    if (code !== 0) throw new Error(`fixture ended with ${signal ?? code}: ${this.#stderr}`);
    return this.lines;
  }
}
