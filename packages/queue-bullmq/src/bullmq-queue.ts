import type {
  ConsumeOptions,
  Consumer,
  EnqueueOptions,
  JobState,
  RunJob,
  RunQueue,
} from "@wf/worker";
import { jobKey } from "@wf/worker";
import { Queue, UnrecoverableError, Worker } from "bullmq";
import type { BullMQQueueOptions } from "./options.js";

/** BullMQ refuses `:` in job ids, and ids never hold `|`: the key's `/` become `|`. */
const jobId = (key: string) => key.replaceAll("/", "|");

// A handler that throws stands for a crash: the job comes back. Only an
// explicit dead outcome fails it for good, so the attempts are unbounded.
const UNBOUNDED = Number.MAX_SAFE_INTEGER;

/** The `@wf/worker` queue contract on BullMQ (Redis). */
export class BullMQQueue implements RunQueue {
  readonly #options: BullMQQueueOptions;
  readonly #name: string;
  readonly #queue: Queue<RunJob>;
  #closed = false;

  constructor(options: BullMQQueueOptions) {
    if (!options?.connection) {
      throw new TypeError(
        "BullMQQueue needs `connection`: ioredis options or an ioredis instance.",
      );
    }
    this.#options = options;
    this.#name = options.queueName ?? "wf-runs";
    this.#queue = new Queue<RunJob>(this.#name, {
      connection: options.connection,
      ...(options.prefix ? { prefix: options.prefix } : {}),
    });
  }

  async enqueue(job: RunJob, options: EnqueueOptions = {}): Promise<void> {
    // A job id that exists (pending, active, or failed and kept) makes add a no-op.
    await this.#queue.add("run", job, {
      jobId: jobId(jobKey(job)),
      delay: options.delayMs ?? 0,
      attempts: UNBOUNDED,
      // A handler that keeps throwing (its store is down) retries once a second, not in a hot loop.
      backoff: { type: "fixed", delay: 1_000 },
      removeOnComplete: true,
      removeOnFail: false,
    });
  }

  async consume(options: ConsumeOptions): Promise<Consumer> {
    const worker = new Worker<RunJob>(
      this.#name,
      async (job) => {
        const outcome = await options.handler({ key: jobKey(job.data), data: job.data });
        if (outcome.kind === "dead") throw new UnrecoverableError(outcome.message);
      },
      {
        connection: this.#options.connection,
        ...(this.#options.prefix ? { prefix: this.#options.prefix } : {}),
        concurrency: options.concurrency,
        lockDuration: this.#options.lockDurationMs ?? 30_000,
        stalledInterval: this.#options.stalledIntervalMs ?? 30_000,
        maxStalledCount: UNBOUNDED,
      },
    );
    worker.on("lockRenewalFailed", (ids) => {
      for (const id of ids) options.onLeaseLost?.(id.replaceAll("|", "/"));
    });
    // Connection errors are retried by ioredis; without a listener they would crash the process.
    worker.on("error", () => {});
    await worker.waitUntilReady();
    return { close: () => worker.close() };
  }

  async jobState(key: string): Promise<JobState> {
    const id = jobId(key);
    // The state first: a job read before it failed would lack its reason,
    // and a failed job is final here (dead jobs are never retried).
    const state = await this.#queue.getJobState(id);
    if (state === "active") return { state: "active" };
    if (state === "completed") return { state: "done" };
    if (state === "unknown") return { state: "absent" };
    if (state === "failed") {
      const job = await this.#queue.getJob(id);
      return { state: "dead", message: job?.failedReason ?? "failed" };
    }
    return { state: "pending" };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue.close();
  }
}
