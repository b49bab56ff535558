// Finds (or starts) the Redis the tests use, and after the run removes the
// keys they made (every queue and store key starts with the run's label).
import { randomBytes } from "node:crypto";
import { deleteKeys, findRedis } from "@wf/test-services/redis";
import { Redis } from "ioredis";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
    /** Unique to this run: every queue prefix and store prefix starts with it. */
    runLabel: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redis = await findRedis();
  const runLabel = `wf_bullmq_${randomBytes(4).toString("hex")}`;
  project.provide("redisUrl", redis.url);
  project.provide("runLabel", runLabel);
  return async () => {
    const client = new Redis(redis.url);
    try {
      await deleteKeys(client, runLabel);
    } finally {
      client.disconnect();
    }
    await redis.stop();
  };
}
