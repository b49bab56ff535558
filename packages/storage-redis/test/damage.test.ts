// Damage beyond the conformance suite's records: a head record that claims
// another step, bookkeeping fields (head, first, status, updatedAt, member)
// that do not hold what the store wrote, and keys of the wrong type, each
// reported as CORRUPT_RECORD naming the exact key and field, from JS reads
// and from inside the Lua scripts, with nothing written; and damaged runs
// listed beside healthy ones and removed by deleteRun with their index
// entries.
import { Node, RUN_STATUSES, type SharedState, WorkflowEngine } from "@wf/core";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { RedisStorage } from "../src/index.js";
import { KeyLayout } from "../src/keys.js";
import { sortKey } from "../src/sort-key.js";
import {
  collectPages,
  recordingLogger,
  redisUrl,
  rejection,
  sampleRun,
  sampleStep,
  seedRun,
  uniquePrefix,
} from "./helpers.js";

const raw = new Redis(redisUrl());
afterAll(() => raw.disconnect());

function open(prefix: string): RedisStorage {
  return new RedisStorage({ url: redisUrl(), prefix, logger: recordingLogger() });
}

/** Every read of one run, and an append of `nextStep`. */
function runCalls(
  storage: RedisStorage,
  workflowId: string,
  runId: string,
  nextStep: number,
): [string, () => Promise<unknown>][] {
  return [
    ["getRun", () => storage.getRun(workflowId, runId)],
    ["getStep", () => storage.getStep(workflowId, runId, 0)],
    ["getLatestStep", () => storage.getLatestStep(workflowId, runId)],
    ["listSteps", () => storage.listSteps(workflowId, runId)],
    ["appendStep", () => storage.appendStep(sampleStep(workflowId, runId, nextStep))],
  ];
}

class Tick extends Node {
  override cleanup(shared: SharedState): void {
    shared.count = ((shared.count as number) ?? 0) + 1;
  }
}

describe("a damaged head record", () => {
  it("a head record claiming another step number stops the engine with CORRUPT_RECORD naming key and field, and nothing is appended", async () => {
    const prefix = uniquePrefix("head-claims");
    const storage = open(prefix);
    const definition = {
      workflowId: "wf",
      nodes: [new Tick({ id: "tick" })],
      edges: [{ from: "tick", to: "tick" }],
      storage,
    };
    const engine = await WorkflowEngine.create(definition);
    for (let i = 0; i < 4; i++) await engine.step();
    const key = new KeyLayout(prefix).runKey("wf", engine.runId);
    await raw.hset(key, "4", JSON.stringify(sampleStep("wf", engine.runId, 9)));

    const latest = await rejection(storage.getLatestStep("wf", engine.runId));
    expect(latest).toMatchObject({ code: "CORRUPT_RECORD", location: `${key} field 4` });
    const reopened = await rejection(WorkflowEngine.create({ ...definition, runId: engine.runId }));
    expect(reopened.code).toBe("CORRUPT_RECORD");
    expect(await raw.hget(key, "head")).toBe("4");
    expect(await raw.hexists(key, "5")).toBe(0);
    await storage.deleteRun("wf", engine.runId);
    await storage.close();
  });
});

describe("damaged bookkeeping fields", () => {
  const cases: [field: string, text: string | null, failing: string[]][] = [
    ["head", "abc", ["getRun", "getStep", "getLatestStep", "listSteps", "appendStep"]],
    ["head", "-1", ["getRun", "getStep", "getLatestStep", "listSteps", "appendStep"]],
    ["head", "1e3", ["getRun", "getStep", "getLatestStep", "listSteps", "appendStep"]],
    ["first", "x", ["getStep", "getLatestStep", "listSteps"]],
    ["first", "7", ["getStep", "getLatestStep", "listSteps"]],
    ["status", "bogus", ["getRun", "appendStep"]],
    ["updatedAt", "not a time", ["getRun"]],
    ["member", null, ["appendStep"]],
  ];
  for (const [field, text, failing] of cases) {
    it(`a run hash whose ${field} field holds ${JSON.stringify(text)} is CORRUPT_RECORD naming the key and field (${failing.join(", ")}), and nothing is written`, async () => {
      const prefix = uniquePrefix("bookkeeping");
      const storage = open(prefix);
      const runId = await seedRun(storage, "wf", 1);
      const key = new KeyLayout(prefix).runKey("wf", runId);
      if (text === null) await raw.hdel(key, field);
      else await raw.hset(key, field, text);
      const before = await raw.hgetall(key);
      for (const [method, call] of runCalls(storage, "wf", runId, 2)) {
        const outcome = await call().then(
          () => "resolved",
          (error: { code?: string; location?: string }) => [error.code, error.location],
        );
        if (failing.includes(method)) {
          expect(outcome, method).toEqual(["CORRUPT_RECORD", `${key} field ${field}`]);
        } else {
          expect(outcome, method).not.toEqual(["CORRUPT_RECORD", `${key} field ${field}`]);
        }
      }
      if (failing.includes("appendStep")) expect(await raw.hgetall(key)).toEqual(before);
      await storage.deleteRun("wf", runId);
      expect(await raw.exists(key)).toBe(0);
      await storage.close();
    });
  }

  it("a run hash that lost its head field is CORRUPT_RECORD, not RUN_NOT_FOUND", async () => {
    const prefix = uniquePrefix("headless");
    const storage = open(prefix);
    const runId = await seedRun(storage, "wf", 1);
    const key = new KeyLayout(prefix).runKey("wf", runId);
    await raw.hdel(key, "head");
    for (const [method, call] of runCalls(storage, "wf", runId, 2)) {
      expect(await rejection(call()), method).toMatchObject({
        code: "CORRUPT_RECORD",
        location: `${key} field head`,
      });
    }
    await storage.close();
  });

  it("a missing step below the head is CORRUPT_RECORD naming its field", async () => {
    const prefix = uniquePrefix("missing-step");
    const storage = open(prefix);
    const runId = await seedRun(storage, "wf", 3);
    const key = new KeyLayout(prefix).runKey("wf", runId);
    await raw.hdel(key, "2");
    for (const call of [
      () => storage.getStep("wf", runId, 2),
      () => storage.listSteps("wf", runId),
    ]) {
      expect(await rejection(call())).toMatchObject({
        code: "CORRUPT_RECORD",
        location: `${key} field 2`,
      });
    }
    expect((await rejection(storage.getStep("wf", runId, 4))).code).toBe("STEP_NOT_FOUND");
    await storage.close();
  });
});

describe("keys of the wrong type", () => {
  it("a string at a run's key is CORRUPT_RECORD naming that key on every method, and is left alone", async () => {
    const prefix = uniquePrefix("wrongtype-run");
    const storage = open(prefix);
    const key = new KeyLayout(prefix).runKey("wf", "run");
    await raw.set(key, "a string");
    const calls: [string, () => Promise<unknown>][] = [
      ...runCalls(storage, "wf", "run", 1),
      ["createRun", () => storage.createRun(sampleRun("wf", "run"), sampleStep("wf", "run", 0))],
    ];
    for (const [method, call] of calls) {
      expect(await rejection(call()), method).toMatchObject({
        code: "CORRUPT_RECORD",
        location: key,
      });
    }
    expect(await raw.get(key)).toBe("a string");
    await raw.del(key);
    await storage.close();
  });

  it("an index of the wrong type is CORRUPT_RECORD naming that index, before the script writes anything", async () => {
    const prefix = uniquePrefix("wrongtype-index");
    const storage = open(prefix);
    const layout = new KeyLayout(prefix);
    const runId = await seedRun(storage, "wf", 1);
    const [run, all, , , , completed] = layout.runKeys("wf", runId);
    // Moving the run to `completed` writes that index: the append stops first.
    await raw.set(completed, "not a sorted set");
    const before = await raw.hgetall(run);
    const append = storage.appendStep(sampleStep("wf", runId, 2, { status: "completed" }));
    expect(await rejection(append)).toMatchObject({ code: "CORRUPT_RECORD", location: completed });
    expect(await raw.hgetall(run)).toEqual(before);
    // Appends that leave that index alone go on.
    await storage.appendStep(sampleStep("wf", runId, 2));
    expect(await raw.hget(run, "head")).toBe("2");
    await raw.del(completed);

    await raw.rename(all, `${all}:saved`);
    await raw.hset(all, "x", "y");
    expect(await rejection(storage.listRuns("wf"))).toMatchObject({
      code: "CORRUPT_RECORD",
      location: all,
    });
    const create = storage.createRun(sampleRun("wf", "other"), sampleStep("wf", "other", 0));
    expect(await rejection(create)).toMatchObject({ code: "CORRUPT_RECORD", location: all });
    expect(await raw.exists(layout.runKey("wf", "other"))).toBe(0);
    await raw.del(all);
    await raw.rename(`${all}:saved`, all);

    await raw.rename(layout.workflows, `${layout.workflows}:saved`);
    await raw.set(layout.workflows, "not a sorted set");
    expect(await rejection(storage.listWorkflows())).toMatchObject({
      code: "CORRUPT_RECORD",
      location: layout.workflows,
    });
    await raw.del(layout.workflows);
    await raw.rename(`${layout.workflows}:saved`, layout.workflows);

    await storage.deleteRun("wf", runId);
    await storage.close();
  });
});

describe("listing and deleting damaged runs", () => {
  it("a run whose key holds another type, or whose hash lost its member field, is reported by listRuns and removed by deleteRun with its index entries", async () => {
    const prefix = uniquePrefix("damaged-runs");
    const storage = open(prefix);
    const layout = new KeyLayout(prefix);
    const healthy = await seedRun(storage, "wf", 1);
    const retyped = await seedRun(storage, "wf", 1);
    const memberless = await seedRun(storage, "wf", 2);
    await storage.appendStep(sampleStep("wf", memberless, 3, { status: "completed" }));
    const retypedKey = layout.runKey("wf", retyped);
    const memberlessKey = layout.runKey("wf", memberless);
    await raw.del(retypedKey);
    await raw.set(retypedKey, "a string");
    await raw.hdel(memberlessKey, "member");

    for (const status of [undefined, ...RUN_STATUSES]) {
      const damaged: { runId: string; location: string }[] = [];
      const runs = await collectPages(async (cursor) => {
        const page = await storage.listRuns("wf", { cursor, status, limit: 1 });
        damaged.push(...page.damaged);
        return page;
      });
      expect(runs.map((run) => run.runId)).toEqual(
        status === "running" || !status ? [healthy] : [],
      );
      expect(damaged.map(({ runId, location }) => [runId, location]).sort()).toEqual(
        [
          [retyped, retypedKey],
          [memberless, `${memberlessKey} field member`],
        ].sort(),
      );
    }

    const [all, , running, , completed] = layout.indexKeys("wf");
    await storage.deleteRun("wf", retyped);
    await storage.deleteRun("wf", memberless);
    expect(await raw.exists(retypedKey, memberlessKey)).toBe(0);
    const members = [...(await raw.zrange(all, 0, -1)), ...(await raw.zrange(running, 0, -1))];
    expect(members).toEqual([
      sortKey("2026-01-01T00:00:00.000Z", healthy),
      sortKey("2026-01-01T00:00:00.000Z", healthy),
    ]);
    expect(await raw.exists(completed)).toBe(0);
    expect(await storage.listRuns("wf")).toMatchObject({ damaged: [] });
    expect((await storage.listWorkflows()).items).toEqual(["wf"]);
    await storage.deleteRun("wf", healthy);
    expect((await storage.listWorkflows()).items).toEqual([]);
    await storage.close();
  });

  it("a status filter reads a bounded number of runs per call: a rare status comes across pages, each run once", async () => {
    const prefix = uniquePrefix("rare-status");
    const storage = open(prefix);
    const failed: string[] = [];
    for (let i = 0; i < 2; i++) {
      const runId = `failed-${i}`;
      await storage.createRun(sampleRun("wf", runId), sampleStep("wf", runId, 0));
      await storage.appendStep(sampleStep("wf", runId, 1, { status: "failed" }));
      failed.unshift(runId);
    }
    // 1,100 newer runs, more than one call examines.
    for (let batch = 0; batch < 11; batch++) {
      await Promise.all(
        Array.from({ length: 100 }, (_, i) => {
          const runId = `running-${batch * 100 + i}`;
          const createdAt = new Date(Date.UTC(2026, 1, 1, 0, 0, 0, batch * 100 + i)).toISOString();
          return storage.createRun(
            sampleRun("wf", runId, { createdAt }),
            sampleStep("wf", runId, 0),
          );
        }),
      );
    }
    const pages: { items: number; next: boolean }[] = [];
    const found = await collectPages(async (cursor) => {
      const page = await storage.listRuns("wf", { cursor, limit: 10, status: "failed" });
      pages.push({ items: page.items.length, next: page.nextCursor !== null });
      return page;
    });
    expect(found.map((run) => run.runId)).toEqual(failed);
    expect(pages[0]).toEqual({ items: 0, next: true });
    expect(pages.length).toBeGreaterThan(1);
    await raw.unlink(...(await keysUnder(prefix)));
    await storage.close();
  });
});

/** Every key starting with `prefix`. */
async function keysUnder(prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = "0";
  do {
    const [next, keys] = await raw.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    found.push(...keys);
    cursor = next;
  } while (cursor !== "0");
  return found;
}
