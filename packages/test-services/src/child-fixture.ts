import { type ChildProcess, spawn } from "node:child_process";

/**
 * A fixture script in a child Node process, as adapter tests use them for
 * crashes and cross-process races: its stdout collected line by line, its
 * stdin for commands, and its end. Timeouts here bound a hang; they are not
 * a measure of speed.
 */
export class ChildFixture {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #stderr = "";
  #partial = "";
  #waiters: (() => void)[] = [];

  constructor(scriptPath: string, args: readonly string[] = []) {
    this.child = spawn(process.execPath, [scriptPath, ...args], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      const parts = (this.#partial + chunk).split("\n");
      this.#partial = parts.pop() ?? "";
      this.lines.push(...parts.filter((line) => line.length > 0));
      this.#wake();
    });
    this.child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      this.#stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => {
        this.#wake();
        resolve({ code, signal });
      });
    });
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** Writes one line to the child's stdin. */
  send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  /** The first `count` lines, once printed; fails if the child exits first or `timeoutMs` passes (then kills it). */
  async waitForLines(count: number, timeoutMs = 30_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length < count) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(
          `fixture exited after ${this.lines.length} of ${count} lines:\n${this.#stderr}`,
        );
      }
      if (Date.now() > deadline) {
        this.child.kill("SIGKILL");
        throw new Error(
          `fixture printed ${this.lines.length} of ${count} lines in ${timeoutMs} ms:\n${this.#stderr}`,
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

  /** Kills the child with SIGKILL, as a crash would, and waits until it is gone. */
  async crash(): Promise<void> {
    this.child.kill("SIGKILL");
    await this.exited;
  }

  /** Every line printed, once the child exited by itself with code 0; else an error with its stderr. */
  async finished(timeoutMs = 30_000): Promise<string[]> {
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
      throw new Error(`fixture exited with ${outcome.signal ?? outcome.code}:\n${this.#stderr}`);
    }
    return this.lines;
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }
}
