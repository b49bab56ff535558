import { fileURLToPath } from "node:url";
import { ChildFixture } from "@wf/test-services";
import { crashScenarioSuite } from "@wf/worker/queue-suite";
import { Queue } from "bullmq";
import { inject } from "vitest";
import { BullMQQueue } from "../src/index.js";
import { freshStorage, redisConnection, TEST_LEASE } from "./servers.js";

const fixture = fileURLToPath(new URL("./fixtures/worker-process.mjs", import.meta.url));

crashScenarioSuite({
  name: "BullMQQueue + RedisStorage",
  runs: 300,
  steps: 10,
  createQueue: async (queueName) =>
    new BullMQQueue({
      connection: redisConnection(),
      prefix: inject("runLabel"),
      queueName,
      ...TEST_LEASE,
    }),
  createStorage: freshStorage,
  spawn: (config, queueName) =>
    new ChildFixture(fixture, [
      JSON.stringify(config),
      queueName,
      inject("redisUrl"),
      inject("runLabel"),
    ]),
  leftoverJobs: async (queueName) => {
    const queue = new Queue(queueName, {
      connection: redisConnection(),
      prefix: inject("runLabel"),
    });
    try {
      const counts = await queue.getJobCounts("waiting", "active", "delayed", "prioritized");
      return Object.values(counts).reduce((sum, count) => sum + count, 0);
    } finally {
      await queue.close();
    }
  },
});
