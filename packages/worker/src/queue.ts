import type { JsonValue } from "@wf/core";

/**
 * What a job asks a worker to do with one run. `atStep` is the run's head
 * when the job was enqueued (-1 for a run a worker still has to create): it
 * names the job (see `jobKey`) and tells the worker whether `answers` still
 * belong to the question the run is waiting on.
 */
export interface RunJob {
  workflowId: string;
  runId: string;
  atStep: number;
  /** Answers for a waiting run, keyed by request id (from `WorkflowClient.answer`). */
  answers?: Record<string, JsonValue>;
  /** Shared state of a run to create (from `WorkflowClient.start`). */
  initialState?: Record<string, JsonValue>;
  /** Retry number of the failed node this job runs again (1 for the first retry). */
  attempt?: number;
}

export interface EnqueueOptions {
  /** Run the job no sooner than this many milliseconds from now (a delayed job). Default 0. */
  delayMs?: number;
}

/** A job a consumer holds under a lease. */
export interface LeasedJob {
  /** The job's dedupe key, `jobKey(data)`. */
  readonly key: string;
  readonly data: RunJob;
}

/** What the handler decided: the job is done, or it goes to the failed/dead-letter state with `message`. */
export type JobOutcome = { kind: "done" } | { kind: "dead"; message: string };

export interface ConsumeOptions {
  /** Jobs handled at once by this consumer. */
  concurrency: number;
  /** Handles one job. A rejection is treated like a crash: the job comes back (at once, or after its lease). */
  handler: (job: LeasedJob) => Promise<JobOutcome>;
  /** Told when the queue reports that this consumer lost a job's lease (another consumer may take it). */
  onLeaseLost?: (key: string) => void;
}

export interface Consumer {
  /** Stops taking jobs, waits for the jobs in progress, and leaves the others queued. */
  close(): Promise<void>;
}

/** Where a job is: waiting or delayed, held by a consumer, done, dead-lettered, or unknown to the queue. */
export type JobState =
  | { state: "pending" | "active" | "done" | "absent" }
  | { state: "dead"; message: string };

/**
 * The queue contract both bindings implement. One job per key: enqueueing a
 * key whose job is pending or active does nothing, so a run normally has at
 * most one job in flight. Delivery is at least once: a job whose consumer
 * dies comes back after its lease.
 */
export interface RunQueue {
  /** Enqueues `job` under `jobKey(job)` unless that key's job is pending or active. */
  enqueue(job: RunJob, options?: EnqueueOptions): Promise<void>;
  /** Starts handling jobs. */
  consume(options: ConsumeOptions): Promise<Consumer>;
  /** The state of the job with this key. */
  jobState(key: string): Promise<JobState>;
  /** Closes what the binding opened (never a client it was handed). Idempotent. */
  close(): Promise<void>;
}

/**
 * The dedupe key of a job: workflow id, run id and the step it was enqueued
 * at. Ids hold only letters, digits, `_`, `.` and `-`, so `/` cannot occur
 * inside them and two runs never share a key.
 */
export function jobKey(job: Pick<RunJob, "workflowId" | "runId" | "atStep">): string {
  return `${job.workflowId}/${job.runId}/${job.atStep}`;
}
