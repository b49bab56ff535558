// The worker process the crash scenario starts: no vitest here, so a child
// process can load it. It speaks in lines on stdout (`ready`, `blocked`,
// `appended`) and takes `close` on stdin.
import { createInterface } from "node:readline";
import { Node, type RequestInput, type SharedState, type WorkflowStorage } from "@wf/core";
import type { RunQueue } from "../queue.js";
import { Worker } from "../worker.js";

export interface CrashFixtureConfig {
  /**
   * A `victim` blocks forever in node `a<blockAt>`, so it can be killed in
   * the middle of a step. A `suicide` kills itself with SIGKILL right after
   * appending step `blockAt` of a run, before requeueing it or completing
   * its job: the window between an append and the requeue.
   */
  role: "victim" | "suicide" | "survivor";
  workflowId: string;
  steps: number;
  blockAt: number;
  /** Node `a<askAt>` asks for input (request id `ok`) in runs whose `runKey` is a multiple of 4. */
  askAt: number;
  concurrency: number;
  stepsPerJob: number;
}

class Numbered extends Node {
  constructor(
    id: string,
    readonly block: boolean,
    readonly ask: boolean,
  ) {
    super({ id });
  }
  override async prepare(shared: SharedState, requestInput: RequestInput): Promise<unknown> {
    if (this.ask && Number(shared.runKey) % 4 === 0) {
      shared.answer = await requestInput("ok?", { requestId: "ok" });
    }
    return shared.runKey;
  }
  override async execute(runKey: unknown): Promise<void> {
    if (this.block) {
      process.stdout.write(`blocked ${String(runKey)} ${this.id}\n`);
      await new Promise(() => {});
    }
  }
  override cleanup(shared: SharedState): void {
    shared.visited = [...((shared.visited as string[] | undefined) ?? []), this.id];
  }
}

/** The crash scenario's workflow: `steps` nodes in a chain; in a victim, one of them never returns. */
export function crashWorkflow(config: CrashFixtureConfig) {
  const nodes = Array.from(
    { length: config.steps },
    (_, index) =>
      new Numbered(
        `a${index}`,
        config.role === "victim" && index === config.blockAt,
        index === config.askAt,
      ),
  );
  const edges = nodes.slice(1).map((node, index) => ({ from: `a${index}`, to: node.id }));
  return { workflowId: config.workflowId, nodes, edges };
}

/** Runs a worker in this process until `close` arrives on stdin. */
export async function runCrashFixture(
  config: CrashFixtureConfig,
  queue: RunQueue,
  storage: WorkflowStorage,
): Promise<void> {
  const worker = new Worker({
    storage,
    queue,
    workflows: [crashWorkflow(config)],
    concurrency: config.concurrency,
    stepsPerJob: config.stepsPerJob,
  });
  worker.on("stepAppended", ({ runId, step }) => {
    process.stdout.write(`appended ${runId} ${step} ${Date.now()}\n`);
    if (config.role === "suicide" && step === config.blockAt) {
      process.stdout.write(`blocked ${runId}\n`);
      process.kill(process.pid, "SIGKILL");
    }
  });
  await worker.start();
  process.stdout.write("ready\n");
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() === "close") break;
  }
  // An open stdin would keep the process alive after everything else closed.
  process.stdin.destroy();
  await worker.close();
  await queue.close();
  await storage.close();
  process.stdout.write("closed\n");
}
