import { createInterface } from "node:readline/promises";
import type { Readable } from "node:stream";
import { assertValidId, type WorkflowStorage } from "@wf/core";
import { maskPassword } from "@wf/core/storage";
import { openStore } from "@wf/store-url";
import { UsageError } from "./errors.js";
import { Output, type OutputStream } from "./output.js";

/** Where `wf` reads and writes: the process's streams, or a test's. */
export interface CliIO {
  stdout: OutputStream;
  stderr: OutputStream;
  stdin?: Readable & { isTTY?: boolean };
  env: Record<string, string | undefined>;
}

/** The store a command uses when neither --store nor WF_STORE names one. */
export const DEFAULT_STORE = "file:./logs";

/** Options every command takes. */
export interface GlobalOptions {
  store?: string;
  json?: boolean;
  color?: boolean;
}

/** What a command needs: its output, its store (opened on first use, closed after), its streams. */
export class CommandContext {
  readonly out: Output;
  readonly json: boolean;
  readonly storeUrl: string;
  #stores: WorkflowStorage[] = [];

  constructor(
    readonly io: CliIO,
    options: GlobalOptions,
  ) {
    this.json = options.json === true;
    this.storeUrl = options.store ?? io.env.WF_STORE ?? DEFAULT_STORE;
    this.out = new Output(io.stdout, io.stderr, io.env, { colour: options.color });
  }

  /** The store named by --store, WF_STORE or the default. */
  store(): Promise<WorkflowStorage> {
    return this.open(this.storeUrl);
  }

  /** Opens a store by URL; every store opened is closed when the command ends. */
  async open(url: string): Promise<WorkflowStorage> {
    const store = await openStore(url);
    this.#stores.push(store);
    return store;
  }

  /** The URL as it may be printed: without its password. */
  shown(url: string): string {
    return maskPassword(url);
  }

  async close(): Promise<void> {
    const stores = this.#stores.splice(0);
    await Promise.allSettled(stores.map((store) => store.close()));
  }

  /**
   * Asks a yes/no question on a terminal. Without one (a script, CI), refuses
   * rather than guessing: the caller passes --yes.
   */
  async confirm(question: string): Promise<boolean> {
    const { stdin, stderr } = this.io;
    if (stdin?.isTTY !== true) {
      throw new UsageError(
        `${question} needs a yes, and there is no terminal to ask on: pass --yes to go ahead.`,
      );
    }
    const prompt = createInterface({ input: stdin, output: stderr });
    try {
      const answer = await prompt.question(`${question} [y/N] `);
      return /^y(es)?$/i.test(answer.trim());
    } finally {
      prompt.close();
    }
  }
}

/** An id from the command line, checked by the same rule as the API before any store is touched. */
export function checkId(value: string, what: string): string {
  assertValidId(value, what);
  return value;
}

/** A step number from the command line. */
export function parseStep(value: string, what = "step"): number {
  if (!/^\d{1,15}$/.test(value)) {
    throw new UsageError(
      `${what} must be a step number (0, 1, 2, …), got ${JSON.stringify(value)}.`,
    );
  }
  return Number(value);
}

/** A positive count from the command line (--limit). */
export function parseCount(value: string, what: string): number {
  if (!/^[1-9]\d{0,8}$/.test(value)) {
    throw new UsageError(`${what} must be a positive whole number, got ${JSON.stringify(value)}.`);
  }
  return Number(value);
}
