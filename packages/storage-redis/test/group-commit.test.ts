// Group commit: appends that wait for a busy store go out together, one
// script call per workflow, and each keeps its own condition, result and
// error. Every group here is forced, not hoped for: the store's connection
// goes through a proxy that holds what the store sends, so appends to
// "blocker" runs, one per flight the store keeps out at once, stay in flight
// (written, not run) for as long as the test likes, and the appends
// submitted meanwhile queue up in the store. Another store, on its own
// connection straight to Redis, is never held.
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisStorage } from "../src/index.js";
import { KeyLayout } from "../src/keys.js";
import { APPENDS_IN_FLIGHT } from "../src/redis-storage.js";
import { type Command, HeldProxy, scriptCalls } from "./held-proxy.js";
import {
  recordingLogger,
  redisUrl,
  rejection,
  sampleStep,
  seedRun,
  uniquePrefix,
} from "./helpers.js";

const RUNS = 16;

/** Every promise's outcome: "stored" or the error code. */
function outcomes(appends: Promise<void>[]): Promise<string[]> {
  return Promise.all(
    appends.map((append) =>
      append.then(
        () => "stored",
        (error: { code?: string }) => error.code ?? String(error),
      ),
    ),
  );
}

/**
 * Lets every call already made reach the store's queue: between a call and
 * its submit there are only promise continuations (the connection is ready
 * and the durability check done), all of which run before the next macrotask.
 */
function queued(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The script calls that went out, an EVAL retrying an EVALSHA after NOSCRIPT folded into it. */
function calls(commands: Command[]): string[][] {
  const found: string[][] = [];
  let previous: { name: string; keys: string[] } | undefined;
  for (const call of scriptCalls(commands)) {
    const retry =
      call.name === "eval" &&
      previous?.name === "evalsha" &&
      previous.keys.join("\n") === call.keys.join("\n");
    if (!retry) found.push(call.keys);
    previous = call;
  }
  return found;
}

describe("group commit", () => {
  let proxy: HeldProxy;
  const raw = new Redis(redisUrl());
  const prefix = uniquePrefix("group");
  const layout = new KeyLayout(prefix);
  /** The store under test: one connection, through the proxy. */
  let storage: RedisStorage;
  /** Another client with its own connection, straight to Redis. */
  let other: RedisStorage;

  beforeAll(async () => {
    proxy = await HeldProxy.start(redisUrl());
    storage = new RedisStorage({ url: proxy.url(redisUrl()), prefix, logger: recordingLogger() });
    other = new RedisStorage({ url: redisUrl(), prefix, logger: recordingLogger() });
  });
  afterAll(async () => {
    await Promise.all([storage.close(), other.close()]);
    await proxy.close();
    raw.disconnect();
  });

  /** Seeds runs at step 0 through the store under test (its connection ready, its checks done). */
  async function seed(workflowId: string, count: number): Promise<string[]> {
    const runIds: string[] = [];
    for (let i = 0; i < count; i++) runIds.push(await seedRun(storage, workflowId, 0));
    return runIds;
  }

  /**
   * Starts appends to fresh blocker runs, one per flight the store keeps
   * out at once, and holds them in the proxy, so every slot for appends is
   * taken; `release` lets them through.
   */
  async function occupyTheStore(workflowId: string) {
    const blockers = await seed(workflowId, APPENDS_IN_FLIGHT);
    const keys = blockers.map((runId) => layout.runKey(workflowId, runId));
    proxy.hold();
    const from = proxy.commands.length;
    const appends = blockers.map((runId) => storage.appendStep(sampleStep(workflowId, runId, 1)));
    await proxy.sent((commands) => {
      const sent = calls(commands.slice(from));
      return keys.every((key) => sent.some((call) => call[0] === key));
    });
    return {
      /** Script calls the store sent after the blockers' own. */
      calls: () => calls(proxy.commands.slice(from)).slice(APPENDS_IN_FLIGHT),
      async release() {
        proxy.release();
        await Promise.all(appends);
      },
    };
  }

  it(`a group of appends to ${RUNS} runs, raced by another client's appends to half of them, stores every append that won and fails only the ones that lost`, async () => {
    const workflowId = "race";
    const runIds = await seed(workflowId, RUNS);
    const contested = runIds.filter((_, i) => i % 2 === 0);
    const occupied = await occupyTheStore(workflowId);

    // Queued behind the blockers: these leave together, as one group.
    const group = outcomes(
      runIds.map((runId) =>
        storage.appendStep(sampleStep(workflowId, runId, 1, { shared: { by: "group" } })),
      ),
    );
    await queued();
    // The other client appends to the contested runs while the group waits.
    const otherOutcomes = await outcomes(
      contested.map((runId) =>
        other.appendStep(sampleStep(workflowId, runId, 1, { shared: { by: "other" } })),
      ),
    );
    expect(otherOutcomes).toEqual(contested.map(() => "stored"));
    await occupied.release();
    const groupOutcomes = await group;

    for (const [i, runId] of runIds.entries()) {
      const isContested = contested.includes(runId);
      expect(groupOutcomes[i], runId).toBe(isContested ? "STEP_CONFLICT" : "stored");
      const steps = (await other.listSteps(workflowId, runId)).items;
      expect(steps.map((step) => step.step)).toEqual([0, 1]);
      expect(steps[1]?.shared).toEqual({ by: isContested ? "other" : "group" });
      expect(await other.getRun(workflowId, runId)).toMatchObject({ headStep: 1 });
    }
    // In Redis itself: head 1 and exactly the fields 0 and 1 beside the bookkeeping.
    for (const runId of runIds) {
      const hash = await raw.hgetall(layout.runKey(workflowId, runId));
      expect(hash.head).toBe("1");
      expect(Object.keys(hash).filter((field) => /^\d+$/.test(field))).toEqual(["0", "1"]);
    }
    // The sixteen went as one script call.
    expect(occupied.calls()).toEqual([
      [...layout.indexKeys(workflowId), ...runIds.map((runId) => layout.runKey(workflowId, runId))],
    ]);
    // A loser's error names the head it lost to.
    const loser = await rejection(
      storage.appendStep(sampleStep(workflowId, contested[0] as string, 1)),
    );
    expect(loser).toMatchObject({ code: "STEP_CONFLICT" });
    expect(loser.message).toContain("1");
  });

  it("a group let go while another client's appends to some of its runs are in flight: per contested run exactly one wins, and what is stored is the winner's", async () => {
    const workflowId = "together";
    const runIds = await seed(workflowId, RUNS);
    const contested = runIds.filter((_, i) => i % 3 === 0);
    const occupied = await occupyTheStore(workflowId);
    const group = outcomes(
      runIds.map((runId) =>
        storage.appendStep(sampleStep(workflowId, runId, 1, { shared: { by: "group" } })),
      ),
    );
    await queued();
    // Both sides on their way to the server at once; which Redis runs first is its choice.
    const rival = outcomes(
      contested.map((runId) =>
        other.appendStep(sampleStep(workflowId, runId, 1, { shared: { by: "other" } })),
      ),
    );
    await occupied.release();
    const [groupOutcomes, rivalOutcomes] = await Promise.all([group, rival]);

    for (const [i, runId] of runIds.entries()) {
      const j = contested.indexOf(runId);
      const steps = (await other.listSteps(workflowId, runId)).items;
      expect(steps.map((step) => step.step)).toEqual([0, 1]);
      if (j < 0) {
        expect(groupOutcomes[i], runId).toBe("stored");
        expect(steps[1]?.shared).toEqual({ by: "group" });
        continue;
      }
      const results = [groupOutcomes[i], rivalOutcomes[j]].sort();
      expect(results, runId).toEqual(["STEP_CONFLICT", "stored"]);
      expect(steps[1]?.shared).toEqual({ by: groupOutcomes[i] === "stored" ? "group" : "other" });
    }
  });

  it("damage on one run of a group fails that append alone, with nothing written to it, and the others are stored", async () => {
    const workflowId = "damaged";
    const [healthy, retyped, missing, ahead, alsoHealthy] = (await seed(workflowId, 5)) as [
      string,
      string,
      string,
      string,
      string,
    ];
    const retypedKey = layout.runKey(workflowId, retyped);
    await raw.hset(retypedKey, "status", "bogus");
    const retypedBefore = await raw.hgetall(retypedKey);
    await other.deleteRun(workflowId, missing);
    await other.appendStep(sampleStep(workflowId, ahead, 1, { shared: { by: "other" } }));
    const occupied = await occupyTheStore(workflowId);
    const runIds = [healthy, retyped, missing, ahead, alsoHealthy];
    const appends = runIds.map((runId) =>
      storage.appendStep(sampleStep(workflowId, runId, 1, { shared: { by: "group" } })),
    );
    const group = outcomes(appends);
    await queued();
    await occupied.release();

    expect(await group).toEqual([
      "stored",
      "CORRUPT_RECORD",
      "RUN_NOT_FOUND",
      "STEP_CONFLICT",
      "stored",
    ]);
    expect(await rejection(appends[1] as Promise<void>)).toMatchObject({
      location: `${retypedKey} field status`,
    });
    expect(occupied.calls()).toHaveLength(1);
    expect(await raw.hgetall(retypedKey)).toEqual(retypedBefore);
    expect(await raw.exists(layout.runKey(workflowId, missing))).toBe(0);
    expect((await other.getStep(workflowId, ahead, 1)).shared).toEqual({ by: "other" });
    for (const runId of [healthy, alsoHealthy]) {
      expect((await other.getStep(workflowId, runId, 1)).shared).toEqual({ by: "group" });
    }
    await raw.unlink(retypedKey);
  });

  it("appends to one run never share a group: of two racing for one step, one is stored and the other conflicts", async () => {
    const workflowId = "same-run";
    const [runId, another] = (await seed(workflowId, 2)) as [string, string];
    const occupied = await occupyTheStore(workflowId);
    const group = outcomes([
      storage.appendStep(sampleStep(workflowId, runId, 1, { shared: { by: "first" } })),
      storage.appendStep(sampleStep(workflowId, runId, 1, { shared: { by: "second" } })),
      storage.appendStep(sampleStep(workflowId, another, 1)),
    ]);
    await queued();
    await occupied.release();
    expect(await group).toEqual(["stored", "STEP_CONFLICT", "stored"]);
    expect((await other.getStep(workflowId, runId, 1)).shared).toEqual({ by: "first" });
    expect(await other.getRun(workflowId, runId)).toMatchObject({ headStep: 1 });
    // The first append with the other run's, then the second alone.
    const runKey = layout.runKey(workflowId, runId);
    expect(occupied.calls().map((keys) => keys.filter((key) => key === runKey).length)).toEqual([
      1, 1,
    ]);
  });

  it("appends to runs of several workflows waiting together go as one call per workflow, each on its workflow's keys alone", async () => {
    const workflows = ["wf-a", "wf-b", "wf-c"];
    const runs = new Map<string, string[]>();
    for (const workflowId of workflows) runs.set(workflowId, await seed(workflowId, 3));
    const occupied = await occupyTheStore("wf-blocker");
    const group = outcomes(
      workflows.flatMap((workflowId) =>
        (runs.get(workflowId) as string[]).map((runId) =>
          storage.appendStep(sampleStep(workflowId, runId, 1)),
        ),
      ),
    );
    await queued();
    await occupied.release();
    expect(await group).toEqual(Array(9).fill("stored"));
    const sent = occupied.calls();
    expect(sent).toHaveLength(workflows.length);
    for (const workflowId of workflows) {
      const expected = [
        ...layout.indexKeys(workflowId),
        ...(runs.get(workflowId) as string[]).map((runId) => layout.runKey(workflowId, runId)),
      ];
      expect(sent).toContainEqual(expected);
      for (const runId of runs.get(workflowId) as string[]) {
        expect(await other.getRun(workflowId, runId)).toMatchObject({ headStep: 1 });
      }
    }
  });
});

describe("a reply that never comes", () => {
  it("holds the appends queued behind it only until its callers' deadlines: then they are sent", async () => {
    const proxy = await HeldProxy.start(redisUrl());
    // A handed client has no command timeout of its own: only the store's deadline ends a call.
    const client = new Redis(proxy.url(redisUrl()));
    const prefix = uniquePrefix("group-deadline");
    const layout = new KeyLayout(prefix);
    const storage = new RedisStorage({
      client,
      prefix,
      timeoutMs: 1000,
      logger: recordingLogger(),
    });
    const other = new RedisStorage({ url: redisUrl(), prefix, logger: recordingLogger() });
    const blockers: string[] = [];
    for (let i = 0; i < APPENDS_IN_FLIGHT; i++) blockers.push(await seedRun(storage, "wf", 0));
    const queuedRun = await seedRun(storage, "wf", 0);
    const later = await seedRun(storage, "wf", 0);
    proxy.hold();
    const from = proxy.commands.length;
    const sentFor = (runId: string) => (commands: Command[]) =>
      calls(commands.slice(from)).some((keys) => keys.includes(layout.runKey("wf", runId)));
    const held = blockers.map((runId) => storage.appendStep(sampleStep("wf", runId, 1)));
    for (const runId of blockers) await proxy.sent(sentFor(runId));
    const waiting = storage.appendStep(sampleStep("wf", queuedRun, 1)).catch(() => {});
    await queued();
    expect(calls(proxy.commands.slice(from))).toHaveLength(APPENDS_IN_FLIGHT);

    for (const append of held) {
      expect(await rejection(append)).toMatchObject({ code: "STORAGE_UNAVAILABLE" });
    }
    // The blockers' replies are still held, yet the queued append went out.
    await proxy.sent(sentFor(queuedRun));
    proxy.release();
    await waiting;
    // Replies come in order on the connection: once this one is stored, all before it ran.
    await storage.appendStep(sampleStep("wf", later, 1));
    for (const runId of [...blockers, queuedRun, later]) {
      expect(await other.getRun("wf", runId)).toMatchObject({ headStep: 1 });
    }
    await Promise.all([storage.close(), other.close()]);
    client.disconnect();
    await proxy.close();
  });
});
