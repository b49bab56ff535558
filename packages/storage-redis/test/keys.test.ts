// The key layout on a real server: every key of a workflow shares one hash
// tag; hostile ids (refused by the store, still encoded safely) and prefixes
// stay inside their own keys; a stored record that is not JSON is reported as
// CORRUPT_RECORD naming its key (keys of the wrong type: damage.test.ts).
import { RUN_STATUSES } from "@wf/core";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { RedisStorage } from "../src/index.js";
import { KeyLayout } from "../src/keys.js";
import {
  recordingLogger,
  redisUrl,
  sampleRun,
  sampleStep,
  seedRun,
  uniquePrefix,
} from "./helpers.js";

const raw = new Redis(redisUrl());
afterAll(() => raw.disconnect());

/** Every key starting with `prefix` (glob characters in it escaped). */
async function keysUnder(prefix: string): Promise<string[]> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`;
  const found: string[] = [];
  let cursor = "0";
  do {
    const [next, keys] = await raw.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    found.push(...keys);
    cursor = next;
  } while (cursor !== "0");
  return found.sort();
}

/** What Redis Cluster hashes: the text between the first `{` and the next `}`, if not empty. */
function hashTag(key: string): string {
  const open = key.indexOf("{");
  const close = key.indexOf("}", open + 1);
  return open >= 0 && close > open + 1 ? key.slice(open + 1, close) : key;
}

function open(prefix: string, ttlSeconds?: number): RedisStorage {
  return new RedisStorage({ url: redisUrl(), prefix, ttlSeconds, logger: recordingLogger() });
}

describe("key layout", () => {
  it("every key of a workflow carries the workflow's hash tag, so a run and its indexes share one Cluster slot", async () => {
    const prefix = uniquePrefix("layout");
    const storage = open(prefix, 60);
    const workflowIds = ["tag", "a.b", "a-b", "A_B", "plain"];
    for (const workflowId of workflowIds) {
      await seedRun(storage, workflowId, 1, "run");
      await storage.appendStep(sampleStep(workflowId, "run", 2, { status: "completed" }));
    }
    const keys = await keysUnder(prefix);
    const layout = new KeyLayout(prefix);
    const expected = workflowIds.flatMap((workflowId) => {
      // No running index: it emptied when the runs completed, and Redis removes empty keys.
      const [run, all, expiry, , , completed] = layout.runKeys(workflowId, "run");
      return [run, all, expiry, completed];
    });
    expect(keys).toEqual([...expected, layout.workflows].sort());
    const tags = new Set<string>();
    for (const workflowId of workflowIds) {
      // The run hash, the all-runs and expiry indexes, one index per status.
      const own = layout.runKeys(workflowId, "run").map(hashTag);
      expect(own).toEqual(Array(3 + RUN_STATUSES.length).fill(workflowId));
      tags.add(own[0] as string);
    }
    expect(tags.size).toBe(workflowIds.length);
    for (const workflowId of workflowIds) await storage.deleteRun(workflowId, "run");
    expect(await keysUnder(prefix)).toEqual([]);
    await storage.close();
  });

  it("ids the store refuses would still be encoded into their own keys: no hash tag, separator or wildcard gets through", () => {
    const layout = new KeyLayout("wf:");
    const hostile = ["{tag}", "a:b*", "ünï", "x?[y]", "a\\b", "%7b", "a\u0000b", "\ud800"];
    const keys = new Set<string>();
    for (const workflowId of hostile) {
      for (const runId of hostile) {
        const key = layout.runKey(workflowId, runId);
        expect(hashTag(key)).toMatch(/^[A-Za-z0-9_.%-]*$/);
        expect(key.slice(key.indexOf("}") + 1)).toMatch(/^:run:[A-Za-z0-9_.%-]*$/);
        keys.add(key);
      }
    }
    expect(keys.size).toBe(hostile.length * hostile.length);
  });

  it("a prefix containing { or } is refused with a TypeError", () => {
    for (const prefix of ["{x}", "a{", "b}"]) {
      expect(() => new RedisStorage({ url: redisUrl(), prefix }), prefix).toThrow(TypeError);
    }
  });

  it("stores whose prefixes nest or hold glob characters never see each other's runs", async () => {
    const base = uniquePrefix("nested");
    const prefixes = [
      base,
      `${base}v1:`,
      `${base}v1:workflows`,
      `${base}*`,
      `${base}?`,
      `${base}[v]`,
      `${base}\\`,
      `${base}%`,
    ];
    const stores = prefixes.map((prefix) => open(prefix));
    for (const [i, storage] of stores.entries()) {
      const definition = { start: "a", nodes: [], edges: [], hash: String(i).padStart(64, "0") };
      await storage.createRun(
        sampleRun("same", "same", { definition }),
        sampleStep("same", "same", 0, { shared: { store: i } }),
      );
    }
    for (const [i, storage] of stores.entries()) {
      expect((await storage.getStep("same", "same", 0)).shared).toEqual({ store: i });
      expect((await storage.listWorkflows()).items).toEqual(["same"]);
      expect((await storage.listRuns("same")).items.map((run) => run.definition.hash)).toEqual([
        String(i).padStart(64, "0"),
      ]);
    }
    await stores[0]?.deleteRun("same", "same");
    await stores[3]?.deleteRun("same", "same");
    for (const [i, storage] of stores.entries()) {
      const gone = i === 0 || i === 3;
      expect((await storage.listRuns("same")).items, prefixes[i]).toHaveLength(gone ? 0 : 1);
    }
    for (const [i, storage] of stores.entries()) {
      if (i !== 0 && i !== 3) await storage.deleteRun("same", "same");
      await storage.close();
    }
    expect(await keysUnder(base)).toEqual([]);
  });
});

describe("foreign data under the prefix", () => {
  it("a stored record that is not JSON fails with CORRUPT_RECORD naming its key", async () => {
    const prefix = uniquePrefix("corrupt");
    const storage = open(prefix);
    await seedRun(storage, "wf", 1, "run");
    const key = new KeyLayout(prefix).runKey("wf", "run");
    await raw.hset(key, "1", "{not json");
    for (const read of [
      () => storage.getStep("wf", "run", 1),
      () => storage.getLatestStep("wf", "run"),
    ]) {
      await expect(read()).rejects.toMatchObject({
        code: "CORRUPT_RECORD",
        message: expect.stringContaining(key),
      });
    }
    await storage.deleteRun("wf", "run");
    await storage.close();
  });
});
