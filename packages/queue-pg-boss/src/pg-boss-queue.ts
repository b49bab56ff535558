import type {
  ConsumeOptions,
  Consumer,
  EnqueueOptions,
  JobState,
  RunJob,
  RunQueue,
} from "@wf/worker";
import { jobKey } from "@wf/worker";
import PgBoss from "pg-boss";
import { jobIdForKey } from "./job-id.js";
import type { PgBossQueueOptions } from "./options.js";

// A handler that rejects stands for a crash, and an expired lease is a
// failure to pg-boss: both must come back, so retries are unbounded. Only an
// explicit dead outcome ends a job, in the dead-letter queue.
const UNBOUNDED_RETRIES = 2_000_000_000;

/** A handler that keeps throwing (its store is down) retries once a second, not in a hot loop. */
const RETRY_DELAY_SECONDS = 1;

interface DeadLetter {
  job: RunJob;
  message: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The `@wf/worker` queue contract on pg-boss 10 (PostgreSQL). */
export class PgBossQueue implements RunQueue {
  readonly #boss: PgBoss;
  readonly #ours: boolean;
  readonly #name: string;
  readonly #dead: string;
  readonly #expireInSeconds: number;
  readonly #pollIntervalMs: number;
  #ready: Promise<void> | null = null;
  #closed = false;

  constructor(options: PgBossQueueOptions) {
    if (!options || (options.connectionString === undefined) === (options.boss === undefined)) {
      throw new TypeError("PgBossQueue needs exactly one of `connectionString` and `boss`.");
    }
    this.#ours = options.boss === undefined;
    this.#boss =
      options.boss ??
      new PgBoss({
        connectionString: options.connectionString,
        schema: options.schema ?? "pgboss",
        maintenanceIntervalSeconds: options.maintenanceIntervalSeconds ?? 30,
      });
    // Without a listener, an 'error' event (a lost connection) would crash the process.
    if (this.#ours) this.#boss.on("error", () => {});
    this.#name = options.queueName ?? "wf-runs";
    this.#dead = `${this.#name}-dead`;
    this.#expireInSeconds = options.expireInSeconds ?? 30;
    this.#pollIntervalMs = options.pollIntervalMs ?? 500;
  }

  /** Starts pg-boss (when this binding opened it) and creates both queues, once. */
  #start(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("This PgBossQueue is closed."));
    this.#ready ??= (async () => {
      if (this.#ours) await this.#boss.start();
      for (const name of [this.#name, this.#dead]) await this.#createQueue(name);
    })();
    return this.#ready;
  }

  /**
   * Creates the queue unless it exists. Processes starting together on a new
   * queue make pg-boss's createQueue deadlock (it adds a partition); the loser
   * of the deadlock is rolled back, so it looks again, a bounded number of times.
   */
  async #createQueue(name: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (await this.#boss.getQueue(name)) return;
      try {
        await this.#boss.createQueue(name, {
          name,
          retryLimit: UNBOUNDED_RETRIES,
          retryDelay: RETRY_DELAY_SECONDS,
          expireInSeconds: this.#expireInSeconds,
        });
        return;
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        // 40P01 deadlock, 23505 unique violation: another process created it meanwhile.
        if ((code !== "40P01" && code !== "23505") || attempt >= 5) throw error;
        await sleep(50 * attempt);
      }
    }
  }

  async enqueue(job: RunJob, options: EnqueueOptions = {}): Promise<void> {
    await this.#start();
    const delayMs = options.delayMs ?? 0;
    // An id that exists makes the insert a no-op (ON CONFLICT DO NOTHING): the dedupe.
    await this.#boss.send(this.#name, job as unknown as object, {
      id: jobIdForKey(jobKey(job)),
      retryLimit: UNBOUNDED_RETRIES,
      retryDelay: RETRY_DELAY_SECONDS,
      expireInSeconds: this.#expireInSeconds,
      // Seconds, measured on the database's clock.
      ...(delayMs > 0 ? { startAfter: delayMs / 1000 } : {}),
    });
  }

  async consume(options: ConsumeOptions): Promise<Consumer> {
    await this.#start();
    let stopping = false;
    // One loop per slot: a slot takes a job only when it has none, which bounds concurrency.
    const slot = async () => {
      while (!stopping) {
        const [job] = await this.#boss.fetch<RunJob>(this.#name, { batchSize: 1 });
        if (!job) {
          await sleep(this.#pollIntervalMs);
          continue;
        }
        try {
          const outcome = await options.handler({ key: jobKey(job.data), data: job.data });
          if (outcome.kind === "dead") {
            const letter: DeadLetter = { job: job.data, message: outcome.message };
            await this.#boss.send(this.#dead, letter, { id: job.id, retryLimit: 0 });
          }
          await this.#boss.complete(this.#name, job.id);
        } catch (error) {
          await this.#boss.fail(this.#name, job.id, { message: String(error) }).catch(() => {});
        }
      }
    };
    const slots = Array.from({ length: options.concurrency }, slot);
    return {
      close: async () => {
        stopping = true;
        await Promise.allSettled(slots);
      },
    };
  }

  async jobState(key: string): Promise<JobState> {
    await this.#start();
    const id = jobIdForKey(key);
    const job = await this.#boss.getJobById(this.#name, id, { includeArchive: true });
    if (!job) return { state: "absent" };
    if (job.state === "active") return { state: "active" };
    if (job.state === "created" || job.state === "retry") return { state: "pending" };
    // Read after the job: its dead letter is sent before the job completes.
    const letter = await this.#boss.getJobById<DeadLetter>(this.#dead, id, {
      includeArchive: true,
    });
    if (letter) return { state: "dead", message: letter.data.message };
    return { state: "done" };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const ready = this.#ready;
    if (this.#ours && ready) {
      await ready.catch(() => {});
      await this.#boss.stop({ graceful: true, wait: true });
    }
  }
}
