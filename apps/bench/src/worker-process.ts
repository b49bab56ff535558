// One worker process of `npm run bench -- --workers`: a @wf/worker Worker on
// the backend's queue and store, configured by JSON on the command line
// (WorkerProcessConfig). It reports in lines on stdout (workers-protocol.ts)
// and stops on `close` on stdin: the worker finishes its steps in progress,
// requeues their runs, and the queue and store are closed. With deferStart it
// takes jobs only once `start` arrives on stdin.
import { createInterface } from "node:readline";
import { Worker } from "@wf/worker";
import { openQueue, openStorage, readyQueue } from "./workers-backends.js";
import {
  formatLine,
  type WorkerLine,
  type WorkerProcessConfig,
  wallClock,
} from "./workers-protocol.js";
import { workloadSpec } from "./workers-workload.js";

const config = JSON.parse(process.argv[2] ?? "") as WorkerProcessConfig;
const say = (line: WorkerLine) => process.stdout.write(`${formatLine(line)}\n`);
const queue = openQueue(config.backend, config.queueName);
const storage = openStorage(config.backend, config.concurrency);
const spec = workloadSpec(
  config.workload,
  config.blockAt === undefined
    ? undefined
    : { at: config.blockAt, onBlocked: (key) => say({ kind: "blocked", key, at: wallClock() }) },
);
const worker = new Worker({
  storage,
  queue,
  workflows: [spec],
  concurrency: config.concurrency,
  stepsPerJob: config.stepsPerJob,
});
worker.on("completed", ({ runId }) => say({ kind: "completed", runId, at: wallClock() }));
if (config.reportAppends) {
  worker.on("stepAppended", ({ runId, step }) =>
    say({ kind: "appended", runId, step, at: wallClock() }),
  );
}
// A run that cannot finish would leave the bench waiting: it is told at once.
worker.on("failed", ({ runId, message }) => say({ kind: "failed", runId, message }));
worker.on("deadLettered", ({ runId, message }) => say({ kind: "failed", runId, message }));
// The queue's connection and tables, and the store's schema, are ready before `ready`.
await readyQueue(queue);
await storage.listRuns(config.workload.workflowId, {});
const start = async () => {
  await worker.start();
  say({ kind: "started" });
};
if (!config.deferStart) await start();
say({ kind: "ready" });
for await (const line of createInterface({ input: process.stdin })) {
  const command = line.trim();
  if (command === "start") await start();
  if (command === "close") break;
}
// An open stdin would keep the process alive after everything else closed.
process.stdin.destroy();
await worker.close();
await queue.close();
await storage.close();
say({ kind: "closed" });
