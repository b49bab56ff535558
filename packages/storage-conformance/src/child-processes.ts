// The parent side of the cross-process tests: starts children running
// `cross-process-child.js` on the adapter's factory module, talks to them one
// message at a time, and kills whatever is left when the test ends.
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ChildCommand, ChildReply } from "./cross-process-child.js";

const CHILD = fileURLToPath(new URL("./cross-process-child.js", import.meta.url));

export interface ChildOptions {
  /** The factory module, as the child imports it. */
  module: string;
  /** The run the child warms its store on before it reports ready. */
  workflowId: string;
  runId: string;
  /** Extra environment, on top of the parent's (which the factory may read). */
  env?: Record<string, string>;
}

/** One child process: send a command, await its answer. */
export class StoreChild {
  readonly #process: ChildProcess;
  readonly #replies: ChildReply[] = [];
  #waiting: { resolve: (reply: ChildReply) => void; reject: (error: Error) => void } | undefined;
  #exit: Error | undefined;
  #stderr = "";
  readonly exited: Promise<NodeJS.Signals | number | null>;

  constructor(
    readonly label: string,
    options: ChildOptions,
  ) {
    this.#process = fork(CHILD, [], {
      env: {
        ...process.env,
        ...options.env,
        WF_CONFORMANCE_CHILD: "1",
        WF_CONFORMANCE_MODULE: options.module,
        WF_CONFORMANCE_WORKFLOW_ID: options.workflowId,
        WF_CONFORMANCE_RUN_ID: options.runId,
      },
      // Not the test runner's loaders or flags: the child is what a user's process would be.
      execArgv: [],
      stdio: ["ignore", "inherit", "pipe", "ipc"],
    });
    this.#process.stderr?.on("data", (chunk: Buffer) => {
      this.#stderr += chunk.toString();
    });
    this.#process.on("message", (reply: ChildReply) => {
      const waiting = this.#waiting;
      this.#waiting = undefined;
      if (waiting) waiting.resolve(reply);
      else this.#replies.push(reply);
    });
    this.exited = new Promise((resolve) => {
      this.#process.on("exit", (code, signal) => {
        this.#exit = new Error(
          `child ${label} exited (${signal ?? `code ${code}`}) before answering${this.#stderr ? `:\n${this.#stderr}` : ""}`,
        );
        this.#waiting?.reject(this.#exit);
        this.#waiting = undefined;
        resolve(signal ?? code);
      });
    });
  }

  get pid(): number | undefined {
    return this.#process.pid;
  }

  /** The child's next answer; a child that fails or exits first rejects, with its stderr. */
  async next(): Promise<ChildReply> {
    const reply = this.#replies.shift();
    const answer =
      reply ??
      (this.#exit
        ? Promise.reject(this.#exit)
        : new Promise<ChildReply>((resolve, reject) => {
            this.#waiting = { resolve, reject };
          }));
    const settled = await answer;
    if (settled.type === "failed")
      throw new Error(`child ${this.label} failed: ${settled.message}`);
    return settled;
  }

  send(command: ChildCommand): void {
    this.#process.send(command);
  }

  async ask(command: ChildCommand): Promise<ChildReply> {
    this.send(command);
    return this.next();
  }

  /** SIGKILL, no cleanup: what a crash or `kill -9` does. Resolves once the process is gone. */
  async kill(): Promise<NodeJS.Signals | number | null> {
    if (this.#process.exitCode === null && this.#process.signalCode === null) {
      this.#process.kill("SIGKILL");
    }
    return this.exited;
  }
}

/** Children of one test; `killAll` in an `afterEach` leaves none behind, passing or failing. */
export class ChildGroup {
  readonly #children: StoreChild[] = [];

  start(label: string, options: ChildOptions): StoreChild {
    const child = new StoreChild(label, options);
    this.#children.push(child);
    return child;
  }

  async killAll(): Promise<void> {
    await Promise.all(this.#children.splice(0).map((child) => child.kill()));
  }
}
