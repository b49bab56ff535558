import { randomBytes } from "node:crypto";
import { findRedis } from "@wf/test-services/redis";
import { Redis } from "ioredis";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** The shared Redis every test file uses. */
    redisUrl: string;
    /** Key prefix unique to this test run; every key the tests write starts with it. */
    redisPrefix: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redis = await findRedis();
  const prefix = `wf-test-${randomBytes(4).toString("hex")}:`;
  project.provide("redisUrl", redis.url);
  project.provide("redisPrefix", prefix);
  return async () => {
    // On a shared server, remove exactly what this run wrote.
    if (redis.source !== "private") await deleteKeysStartingWith(redis.url, prefix);
    await redis.stop();
  };
}

async function deleteKeysStartingWith(url: string, prefix: string): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const pattern = `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`;
    let cursor = "0";
    do {
      const [next, keys] = await client.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      if (keys.length > 0) await client.unlink(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    client.disconnect();
  }
}
