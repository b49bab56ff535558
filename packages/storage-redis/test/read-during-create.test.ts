// getRun reads the metadata, and only when it finds none asks whether the key
// exists. A run created between those two calls used to be reported as
// damaged ("the run's metadata is missing"). The race is made to happen: the
// client's EXISTS first lets a second store create the run.
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { RedisStorage } from "../src/index.js";
import { redisUrl, sampleRun, sampleStep, uniquePrefix } from "./helpers.js";

describe("getRun racing createRun", () => {
  it("a run created between the metadata read and the existence check is returned, not reported damaged", async () => {
    const prefix = uniquePrefix("read-create");
    const client = new Redis(redisUrl(), { lazyConnect: true });
    const creator = new RedisStorage({ url: redisUrl(), prefix, logger: { warn() {} } });
    const reader = new RedisStorage({ client, prefix, logger: { warn() {} } });
    const realExists = client.exists.bind(client);
    let created = false;
    // Between getRun's HMGET (which found nothing) and its EXISTS, the run appears.
    client.exists = (async (...keys: Parameters<Redis["exists"]>) => {
      if (!created) {
        created = true;
        await creator.createRun(sampleRun("w", "r1"), sampleStep("w", "r1", 0));
      }
      return realExists(...keys);
    }) as Redis["exists"];
    try {
      const run = await reader.getRun("w", "r1");
      expect(created).toBe(true);
      expect(run).toMatchObject({ workflowId: "w", runId: "r1", headStep: 0 });
    } finally {
      await creator.deleteRun("w", "r1").catch(() => {});
      await reader.close();
      await creator.close();
      client.disconnect();
    }
  });
});
