import { RedisStorage } from "@wf/storage-redis";
import { inject } from "vitest";
import { BullMQQueue } from "../src/index.js";

let count = 0;

/** Short leases so a crashed worker's jobs come back within seconds. */
export const TEST_LEASE = { lockDurationMs: 2_000, stalledIntervalMs: 1_000 };

export function redisConnection(): { host: string; port: number } {
  const url = new URL(inject("redisUrl"));
  return { host: url.hostname, port: Number(url.port || 6379) };
}

/** A queue of its own (unique name) under the run's key prefix. */
export async function freshQueue(): Promise<BullMQQueue> {
  count += 1;
  return new BullMQQueue({
    connection: redisConnection(),
    prefix: inject("runLabel"),
    queueName: `q${process.pid}_${count}`,
    ...TEST_LEASE,
  });
}

export async function freshStorage(): Promise<RedisStorage> {
  return new RedisStorage({ url: inject("redisUrl"), prefix: `${inject("runLabel")}:store:` });
}
