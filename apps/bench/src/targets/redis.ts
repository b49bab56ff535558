import { randomBytes } from "node:crypto";
import { RedisStorage } from "@wf/storage-redis";
import { deleteKeys, findRedis } from "@wf/test-services/redis";
import { Redis } from "ioredis";
import type { BenchTarget } from "../target.js";

/**
 * RedisStorage on the test Redis (WF_TEST_REDIS_URL, 127.0.0.1:6379 or a
 * private redis-server), under a fresh prefix. Baseline: one SET of the same
 * bytes on the same connection, so both see the server's own durability
 * (appendfsync) and the same round trip; a step is one EVALSHA.
 */
export const target: BenchTarget = {
  name: "redis",
  async open() {
    const server = await findRedis();
    const client = new Redis(server.url);
    const namespace = `wf-bench-${randomBytes(4).toString("hex")}:`;
    const storage = new RedisStorage({ client, prefix: `${namespace}store:` });
    return {
      storage,
      async baselineWrite(bytes, i) {
        await client.set(`${namespace}raw:${i}`, bytes);
      },
      async bytesStored() {
        // MEMORY USAGE with SAMPLES 0 measures every field of a hash: the server's own accounting.
        let total = 0;
        let cursor = "0";
        do {
          const [next, keys] = await client.scan(
            cursor,
            "MATCH",
            `${namespace}store:*`,
            "COUNT",
            1000,
          );
          for (const key of keys) {
            total += Number((await client.memory("USAGE", key, "SAMPLES", 0)) ?? 0);
          }
          cursor = next;
        } while (cursor !== "0");
        return total;
      },
      async close() {
        await storage.close();
        try {
          // Everything written lives under the namespace, which has no glob characters.
          await deleteKeys(client, namespace);
        } finally {
          client.disconnect();
          await server.stop();
        }
      },
    };
  },
};
