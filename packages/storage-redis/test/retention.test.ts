// Retention beyond the conformance suite: index entries of expired runs are
// dropped when listed, a workflow whose runs all expired leaves no keys and
// is no longer listed, and a store without ttlSeconds makes a run permanent.
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { RedisStorage } from "../src/index.js";
import { KeyLayout } from "../src/keys.js";
import { sortKey } from "../src/sort-key.js";
import { recordingLogger, redisUrl, sampleStep, seedRun, uniquePrefix } from "./helpers.js";

const raw = new Redis(redisUrl());
afterAll(() => raw.disconnect());

function open(prefix: string, ttlSeconds?: number): RedisStorage {
  return new RedisStorage({ url: redisUrl(), prefix, ttlSeconds, logger: recordingLogger() });
}

/** Polls (bounded) until the run is gone. */
async function expired(storage: RedisStorage, workflowId: string, runId: string): Promise<boolean> {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      await storage.getRun(workflowId, runId);
    } catch (error) {
      if ((error as { code?: string }).code === "RUN_NOT_FOUND") return true;
      throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

describe("retention", () => {
  it("index entries of an expired run are dropped when its workflow's runs are listed", async () => {
    const prefix = uniquePrefix("expire-entries");
    const keep = open(prefix);
    const expire = open(prefix, 1);
    await seedRun(keep, "mixed", 0, "kept");
    await seedRun(expire, "mixed", 1, "brief");
    const [all, expiry, running] = new KeyLayout(prefix).indexKeys("mixed");
    expect(await raw.zcard(all)).toBe(2);
    expect(await expired(keep, "mixed", "brief")).toBe(true);
    // Expiry removed the run's hash; its entries wait for the next listing or write.
    expect(await raw.zcard(all)).toBe(2);
    expect((await keep.listRuns("mixed")).items.map((run) => run.runId)).toEqual(["kept"]);
    expect((await keep.listRuns("mixed", { status: "running" })).items).toHaveLength(1);
    expect(await raw.zrange(all, 0, -1)).toEqual([sortKey("2026-01-01T00:00:00.000Z", "kept")]);
    expect(await raw.zcard(running)).toBe(1);
    expect(await raw.zcard(expiry)).toBe(0);
    await keep.deleteRun("mixed", "kept");
    await Promise.all([keep.close(), expire.close()]);
  });

  it("a workflow whose runs all expired leaves no keys behind and is no longer listed", async () => {
    const prefix = uniquePrefix("expire-workflow");
    const storage = open(prefix, 1);
    await seedRun(storage, "brief", 2, "r1");
    await seedRun(storage, "brief", 0, "r2");
    const layout = new KeyLayout(prefix);
    for (const key of layout.runKeys("brief", "r1").slice(0, 4)) {
      expect(await raw.pttl(key), key).toBeGreaterThan(0);
    }
    expect(await expired(storage, "brief", "r1")).toBe(true);
    expect(await expired(storage, "brief", "r2")).toBe(true);
    expect(await raw.exists(...layout.runKeys("brief", "r1"))).toBe(0);
    expect(await raw.zscore(layout.workflows, sortKey("brief"))).not.toBeNull();
    expect((await storage.listWorkflows()).items).toEqual([]);
    expect(await raw.exists(layout.workflows)).toBe(0);
    await storage.close();
  });

  it("each write with ttlSeconds pushes the run's expiry back, and a write without makes it permanent", async () => {
    const prefix = uniquePrefix("expire-refresh");
    const expiring = open(prefix, 60);
    const permanent = open(prefix);
    await seedRun(expiring, "wf", 0, "run");
    const [run, all, expiry] = new KeyLayout(prefix).runKeys("wf", "run");
    const first = await raw.pttl(run);
    expect(first).toBeGreaterThan(50_000);
    await expiring.appendStep(sampleStep("wf", "run", 1));
    expect(await raw.pttl(run)).toBeGreaterThan(50_000);
    expect(await raw.zcard(expiry)).toBe(1);
    await permanent.appendStep(sampleStep("wf", "run", 2));
    expect(await raw.pttl(run)).toBe(-1);
    expect(await raw.pttl(all)).toBe(-1);
    expect(await raw.zcard(expiry)).toBe(0);
    await permanent.deleteRun("wf", "run");
    await Promise.all([expiring.close(), permanent.close()]);
  });
});
