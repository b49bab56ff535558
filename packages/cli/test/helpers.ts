// Runs `wf` in this process with captured streams, and seeds a store with the
// runs every command is tested on.
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { WorkflowEngine, type WorkflowStorage } from "@wf/core";
import { runCli } from "../src/index.js";

export const APPROVAL = fileURLToPath(new URL("./fixtures/approval.mjs", import.meta.url));
export const RENAMED = fileURLToPath(new URL("./fixtures/renamed.mjs", import.meta.url));
export const NOT_A_DEFINITION = fileURLToPath(
  new URL("./fixtures/not-a-definition.mjs", import.meta.url),
);

class Capture extends Writable {
  text = "";
  constructor(
    readonly isTTY = false,
    readonly columns?: number,
  ) {
    super();
  }
  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

export interface WfResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (for --json runs). */
  json<T = Record<string, unknown>>(): T;
}

/** Runs `wf args…` on `store` in this process. */
export async function wf(
  store: string,
  args: readonly string[],
  options: { env?: Record<string, string>; tty?: boolean; columns?: number } = {},
): Promise<WfResult> {
  const stdout = new Capture(options.tty === true, options.columns);
  const stderr = new Capture(options.tty === true, options.columns);
  const code = await runCli(["--store", store, ...args], {
    stdout,
    stderr,
    env: { ...options.env },
  });
  return {
    code,
    stdout: stdout.text,
    stderr: stderr.text,
    json: <T>() => JSON.parse(stdout.text) as T,
  };
}

/** The runs a seeded store holds. */
export interface Seeded {
  /** Completed: draft, review (yes), publish. */
  completed: string;
  /** Waiting at review. */
  waiting: string;
  /** Failed in publish. */
  failed: string;
  /** Completed, then resumed from step 1: steps 2-4 are a superseded branch; waits at review again. */
  resumed: string;
  /** Forked from `completed` at step 2 and answered "no": back to draft, then waits at review. */
  fork: string;
}

/** Writes the five kinds of run into `storage` through the engine, as users would. */
export async function seed(storage: WorkflowStorage): Promise<Seeded> {
  const { default: approval } = (await import(APPROVAL)) as {
    default: Parameters<typeof WorkflowEngine.create>[0];
  };
  const start = async (initialState: Record<string, unknown>) => {
    const engine = await WorkflowEngine.create({ ...approval, storage, initialState });
    await engine.run();
    return engine;
  };
  const completed = await start({ topic: "tides" });
  await completed.run({ review: "yes" });
  const waiting = await start({ topic: "moons" });
  const failed = await start({ topic: "fire", fail: true });
  await failed.run({ review: "yes" });
  const resumedSource = await start({ topic: "winds" });
  await resumedSource.run({ review: "yes" });
  const resumed = await WorkflowEngine.create({
    ...approval,
    storage,
    runId: resumedSource.runId,
    resumeFrom: 1,
  });
  await resumed.run();
  const fork = await WorkflowEngine.create({
    ...approval,
    storage,
    runId: completed.runId,
    resumeFrom: 2,
    fork: true,
  });
  await fork.run({ review: "no" });
  return {
    completed: completed.runId,
    waiting: waiting.runId,
    failed: failed.runId,
    resumed: resumed.runId,
    fork: fork.runId,
  };
}
