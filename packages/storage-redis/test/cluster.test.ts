// Redis Cluster: the whole conformance suite through a handed ioredis
// Cluster client on a private three-node cluster, and the key layout checked
// against the slots the cluster itself computes.
import { defineStorageConformance } from "@wf/storage-conformance";
import { type PrivateRedisCluster, startRedisCluster } from "@wf/test-services/redis";
import { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisStorage } from "../src/index.js";
import { KeyLayout } from "../src/keys.js";
import { damageRecord, recordingLogger, sampleStep, seedRun } from "./helpers.js";

const prefix = "wf-cluster:";
let cluster: PrivateRedisCluster;
let client: Cluster;

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  client = new Cluster(cluster.nodes);
  client.on("error", () => {});
});

afterAll(async () => {
  await client?.quit();
  await cluster?.stop();
});

defineStorageConformance({
  name: "RedisStorage on Redis Cluster",
  create: ({ ttlSeconds }) =>
    new RedisStorage({ client, prefix, ttlSeconds, logger: recordingLogger() }),
  damage: (target, text) => damageRecord(client, prefix, target, text),
});

describe("key layout on Redis Cluster", () => {
  it("all keys of a workflow hash to one slot, and different workflows spread over the nodes", async () => {
    const storage = new RedisStorage({ client, prefix: "wf-slots:", logger: recordingLogger() });
    const layout = new KeyLayout("wf-slots:");
    const owners = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const workflowId = `workflow-${i}`;
      await seedRun(storage, workflowId, 1, "run");
      const slots = await Promise.all(
        layout.runKeys(workflowId, "run").map((key) => client.cluster("KEYSLOT", key)),
      );
      expect(new Set(slots).size, workflowId).toBe(1);
      const node = client.slots[slots[0] as number]?.[0];
      if (node) owners.add(node);
      await storage.deleteRun(workflowId, "run");
    }
    expect(owners.size).toBeGreaterThan(1);
    await storage.close();
    expect(client.status).toBe("ready");
  });
});

describe("group commit on Redis Cluster", () => {
  it("concurrent appends to runs of workflows on different nodes are each stored once, and a second append of the same step conflicts", async () => {
    const storage = new RedisStorage({ client, prefix: "wf-groups:", logger: recordingLogger() });
    const runs: [string, string][] = [];
    for (let w = 0; w < 6; w++) {
      for (let r = 0; r < 4; r++)
        runs.push([`workflow-${w}`, await seedRun(storage, `workflow-${w}`, 0)]);
    }
    // The first append goes alone; the rest queue behind it and go as one call per workflow.
    const append = () =>
      Promise.all(
        runs.map(([workflowId, runId]) =>
          storage.appendStep(sampleStep(workflowId, runId, 1)).then(
            () => "stored",
            (error: { code?: string }) => error.code,
          ),
        ),
      );
    expect(await append()).toEqual(runs.map(() => "stored"));
    expect(await append()).toEqual(runs.map(() => "STEP_CONFLICT"));
    for (const [workflowId, runId] of runs) {
      expect(await storage.getRun(workflowId, runId)).toMatchObject({ headStep: 1 });
      await storage.deleteRun(workflowId, runId);
    }
    await storage.close();
  });
});
