import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { inject } from "vitest";
import type { RedisStorageLogger } from "../src/index.js";

/** The Redis the test run shares (see global-setup.ts). */
export function redisUrl(): string {
  return inject("redisUrl");
}

/** A key prefix no other test uses, inside this run's prefix (so teardown removes it). */
export function uniquePrefix(label: string): string {
  return `${inject("redisPrefix")}${label}-${randomBytes(3).toString("hex")}:`;
}

/** A logger that keeps what it is told. */
export function recordingLogger(): RedisStorageLogger & { messages: string[] } {
  const messages: string[] = [];
  return { messages, warn: (message) => messages.push(message) };
}

/**
 * A fixture script (test/fixtures/*.js, importing the built dist) in its own
 * Node process: lines it prints, a way to write to its stdin, and its end.
 */
export class Fixture {
  readonly lines: string[] = [];
  readonly #child: ChildProcess;
  readonly #exit: Promise<number | null>;
  #stderr = "";
  #waiters: (() => void)[] = [];

  constructor(script: string, args: string[]) {
    const path = fileURLToPath(new URL(`./fixtures/${script}`, import.meta.url));
    this.#child = spawn(process.execPath, [path, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    let pending = "";
    this.#child.stdout?.on("data", (chunk: Buffer) => {
      pending += chunk.toString();
      const parts = pending.split("\n");
      pending = parts.pop() ?? "";
      this.lines.push(...parts.filter((line) => line.length > 0));
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.#child.stderr?.on("data", (chunk: Buffer) => {
      this.#stderr += chunk.toString();
    });
    this.#exit = new Promise((resolve) => this.#child.once("exit", (code) => resolve(code)));
  }

  /** Resolves once the fixture printed `count` lines; fails if it exits first. */
  async waitForLines(count: number): Promise<void> {
    while (this.lines.length < count) {
      const exited = await Promise.race([
        new Promise<false>((resolve) => this.#waiters.push(() => resolve(false))),
        this.#exit.then(() => true),
      ]);
      if (exited && this.lines.length < count) {
        throw new Error(`fixture exited after ${this.lines.length} lines:\n${this.#stderr}`);
      }
    }
  }

  send(line: string): void {
    this.#child.stdin?.write(`${line}\n`);
  }

  /** The lines printed, once the process exited with 0 (else an error with its stderr). */
  async finished(timeoutMs: number): Promise<string[]> {
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      this.#exit,
      new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (code === "timeout") {
      this.#child.kill("SIGKILL");
      throw new Error(`fixture did not finish within ${timeoutMs} ms:\n${this.#stderr}`);
    }
    if (code !== 0) throw new Error(`fixture exited with ${code}:\n${this.#stderr}`);
    return this.lines;
  }
}

export { sampleRun, sampleStep, seedRun } from "@wf/storage-conformance";
