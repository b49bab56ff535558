// The `cancelled` status and its index: a cancelled run moves from its
// previous status's index to the cancelled one and lists under "cancelled"
// only; delete, resume and retention keep that index in step like the
// others; and a workflow written before the index existed (no cancelled
// key at all) works unchanged, an absent sorted set being an empty one.
import { cancelRun } from "@wf/core";
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

/** The index keys of a workflow, by name. */
function indexes(prefix: string, workflowId: string) {
  const [all, expiry, running, waiting, completed, failed, cancelled] = new KeyLayout(
    prefix,
  ).indexKeys(workflowId);
  return { all, expiry, running, waiting, completed, failed, cancelled };
}

/** The run ids a status-filtered listing returns. */
async function listed(storage: RedisStorage, workflowId: string, status?: "running" | "cancelled") {
  return (await storage.listRuns(workflowId, { status })).items.map((run) => run.runId);
}

const member = (runId: string) => sortKey("2026-01-01T00:00:00.000Z", runId);

describe("the cancelled status", () => {
  it("a run appended to `cancelled` lists under cancelled and no longer under running, its index entry moves with it, and delete removes it", async () => {
    const prefix = uniquePrefix("cancelled");
    const storage = open(prefix);
    const keys = indexes(prefix, "wf");
    const cancelled = await seedRun(storage, "wf", 2, "to-cancel");
    const going = await seedRun(storage, "wf", 1, "going-on");
    expect(await raw.exists(keys.cancelled)).toBe(0);

    expect(await cancelRun(storage, "wf", cancelled, { reason: "operator" })).toBe(true);

    const head = await storage.getLatestStep("wf", cancelled);
    expect(head).toMatchObject({ step: 3, status: "cancelled", awaitingInput: null });
    expect(head.error).toMatchObject({ name: "RunCancelled", code: "CANCELLED" });
    expect(await storage.getRun("wf", cancelled)).toMatchObject({
      status: "cancelled",
      headStep: 3,
    });
    expect(await listed(storage, "wf", "cancelled")).toEqual([cancelled]);
    expect(await listed(storage, "wf", "running")).toEqual([going]);
    expect((await listed(storage, "wf")).sort()).toEqual([cancelled, going].sort());
    expect(await raw.zrange(keys.cancelled, 0, -1)).toEqual([member(cancelled)]);
    expect(await raw.zrange(keys.running, 0, -1)).toEqual([member(going)]);

    await storage.deleteRun("wf", cancelled);
    expect(await listed(storage, "wf", "cancelled")).toEqual([]);
    // Redis removes a sorted set whose last member goes.
    expect(await raw.exists(keys.cancelled)).toBe(0);
    expect(await raw.zrange(keys.all, 0, -1)).toEqual([member(going)]);
    await storage.deleteRun("wf", going);
    await storage.close();
  });

  it("a cancelled run resumed from its head moves back from the cancelled index to running", async () => {
    const prefix = uniquePrefix("cancelled-resume");
    const storage = open(prefix);
    const keys = indexes(prefix, "wf");
    const runId = await seedRun(storage, "wf", 0);
    await cancelRun(storage, "wf", runId);
    expect(await raw.zrange(keys.cancelled, 0, -1)).toEqual([member(runId)]);
    await storage.appendStep(sampleStep("wf", runId, 2));
    expect(await raw.exists(keys.cancelled)).toBe(0);
    expect(await raw.zrange(keys.running, 0, -1)).toEqual([member(runId)]);
    expect(await listed(storage, "wf", "cancelled")).toEqual([]);
    expect(await listed(storage, "wf", "running")).toEqual([runId]);
    await storage.deleteRun("wf", runId);
    await storage.close();
  });

  it("a run created with status cancelled (a fork of a cancel record) is indexed under cancelled at once", async () => {
    const prefix = uniquePrefix("cancelled-create");
    const storage = open(prefix);
    const keys = indexes(prefix, "wf");
    const source = await seedRun(storage, "wf", 1);
    await cancelRun(storage, "wf", source);
    const head = await storage.getLatestStep("wf", source);
    await storage.createRun(
      {
        ...(await storage.getRun("wf", source)),
        runId: "fork",
        headStep: head.step,
        status: "cancelled",
        forkedFrom: { runId: source, step: head.step },
      },
      { ...head, runId: "fork" },
    );
    expect((await raw.zrange(keys.cancelled, 0, -1)).sort()).toEqual(
      [member(source), member("fork")].sort(),
    );
    expect((await listed(storage, "wf", "cancelled")).sort()).toEqual([source, "fork"].sort());
    for (const runId of [source, "fork"]) await storage.deleteRun("wf", runId);
    await storage.close();
  });

  it("with retention, the cancelled index expires with the workflow's last run, and an expired run's cancelled entry is dropped", async () => {
    const prefix = uniquePrefix("cancelled-ttl");
    const storage = open(prefix, 60);
    const keys = indexes(prefix, "wf");
    const runId = await seedRun(storage, "wf", 1);
    await cancelRun(storage, "wf", runId);
    const ttl = await raw.pttl(keys.cancelled);
    expect(ttl).toBeGreaterThan(50_000);
    expect(await raw.pttl(keys.all)).toBeGreaterThan(50_000);

    // A run whose hash expired (here: removed behind the store's back, as expiry
    // would) has its entries dropped on the next listing, cancelled included.
    await raw.unlink(new KeyLayout(prefix).runKey("wf", runId));
    expect(await listed(storage, "wf", "cancelled")).toEqual([]);
    expect(await raw.exists(keys.cancelled, keys.all)).toBe(0);
    await storage.close();
  });

  it("a workflow written before the cancelled index existed keeps working: appends, listings, deletes and retention treat the missing key as empty", async () => {
    const prefix = uniquePrefix("cancelled-legacy");
    const storage = open(prefix);
    const keys = indexes(prefix, "old");
    // What the four-status layout left: runs in the other indexes, no cancelled key.
    const runs: string[] = [];
    for (let i = 0; i < 3; i++) runs.push(await seedRun(storage, "old", 1, `run-${i}`));
    await storage.appendStep(sampleStep("old", "run-1", 2, { status: "completed" }));
    expect(await raw.exists(keys.cancelled)).toBe(0);
    expect(await listed(storage, "old", "cancelled")).toEqual([]);

    await storage.appendStep(sampleStep("old", "run-0", 2));
    await cancelRun(storage, "old", "run-2");
    expect(await raw.zrange(keys.cancelled, 0, -1)).toEqual([member("run-2")]);
    expect(await listed(storage, "old", "cancelled")).toEqual(["run-2"]);

    // A store with retention refreshes every index, the new one too.
    const retaining = open(prefix, 60);
    await retaining.appendStep(sampleStep("old", "run-0", 3));
    for (const runId of runs) await storage.deleteRun("old", runId);
    expect(await raw.exists(...Object.values(keys))).toBe(0);
    expect((await storage.listWorkflows()).items).toEqual([]);
    await Promise.all([storage.close(), retaining.close()]);
  });
});
