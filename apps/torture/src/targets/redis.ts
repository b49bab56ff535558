import { randomBytes } from "node:crypto";
import { deleteKeys, findRedis } from "@wf/test-services/redis";
import { Redis } from "ioredis";
import { openStore } from "../stores.js";
import type { StoreTarget } from "../target.js";

/**
 * RedisStorage on the test Redis (WF_TEST_REDIS_URL, 127.0.0.1:6379 or a
 * private redis-server) under a key prefix of its own, whose keys are deleted
 * afterwards. Damage is an HSET or HDEL on the run's hash, where the store
 * keeps the metadata (`run`) and each step (`0`, `1`, …).
 */
export async function provision(label: string): Promise<StoreTarget> {
  const server = await findRedis();
  const prefix = `wf-torture-${label}-${randomBytes(4).toString("hex")}:`;
  const spec = { kind: "redis" as const, url: server.url, prefix };
  const client = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await client.connect();
  return {
    kind: "redis",
    where: `${server.source} server ${new URL(server.url).host}, prefix ${prefix}`,
    spec,
    open: () => openStore(spec),
    async damage({ workflowId, runId, record }, text) {
      if (!/^[A-Za-z0-9_.-]+$/.test(`${workflowId}${runId}`)) {
        throw new TypeError("damage needs ids the store keeps verbatim in keys");
      }
      const key = `${prefix}v1:{${workflowId}}:run:${runId}`;
      const field = record === "metadata" ? "run" : String(record);
      if (text === null) await client.hdel(key, field);
      else await client.hset(key, field, text);
    },
    async dispose() {
      try {
        // Everything written lives under the prefix, which has no glob characters.
        await deleteKeys(client, prefix);
      } finally {
        client.disconnect();
        await server.stop();
      }
    },
  };
}
