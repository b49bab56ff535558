import type { ConnectionOptions } from "bullmq";

export interface BullMQQueueOptions {
  /** ioredis connection options, or an ioredis instance (never closed by this binding). */
  connection: ConnectionOptions;
  /** Name of the BullMQ queue. Default `wf-runs`. */
  queueName?: string;
  /** BullMQ key prefix. Default `bull`. */
  prefix?: string;
  /**
   * A job's lease: a worker that stops renewing it (crashed, frozen) loses
   * the job after this long. Default 30 000 ms.
   */
  lockDurationMs?: number;
  /** How often stalled jobs (expired leases) are looked for and handed back. Default 30 000 ms. */
  stalledIntervalMs?: number;
}
