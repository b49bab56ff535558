export {
  type StartOptions,
  type WaitOptions,
  WorkflowClient,
  type WorkflowClientOptions,
} from "./client.js";
export { JobDeadLetteredError, RunNotWaitingError, WaitTimeoutError } from "./errors.js";
export type { WorkerEventName, WorkerEvents } from "./events.js";
export { runIdForKey } from "./idempotency.js";
export { silentLogger, type WorkerLogger } from "./logger.js";
export {
  type ConsumeOptions,
  type Consumer,
  type EnqueueOptions,
  type JobOutcome,
  type JobState,
  jobKey,
  type LeasedJob,
  type RunJob,
  type RunQueue,
} from "./queue.js";
export { Worker, type WorkerOptions } from "./worker.js";
