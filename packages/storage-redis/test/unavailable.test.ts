// Bounded failure and client ownership: an unreachable server gives
// STORAGE_UNAVAILABLE, also through a handed client configured to queue
// forever; a server that comes back is used again; close() never ends a
// client the store was handed.
import { freePort } from "@wf/test-services";
import { type PrivateRedis, startRedis } from "@wf/test-services/redis";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { RedisStorage } from "../src/index.js";
import {
  Fixture,
  recordingLogger,
  redisUrl,
  sampleRun,
  sampleStep,
  seedRun,
  uniquePrefix,
} from "./helpers.js";

/** Every method of `storage`, called on a run that may or may not exist. */
function everyMethod(storage: RedisStorage): [string, () => Promise<unknown>][] {
  const workflowId = "wf";
  const runId = "run";
  return [
    [
      "createRun",
      () => storage.createRun(sampleRun(workflowId, runId), sampleStep(workflowId, runId, 0)),
    ],
    ["appendStep", () => storage.appendStep(sampleStep(workflowId, runId, 1))],
    ["getRun", () => storage.getRun(workflowId, runId)],
    ["getStep", () => storage.getStep(workflowId, runId, 0)],
    ["getLatestStep", () => storage.getLatestStep(workflowId, runId)],
    ["listSteps", () => storage.listSteps(workflowId, runId)],
    ["listRuns", () => storage.listRuns(workflowId)],
    ["listWorkflows", () => storage.listWorkflows()],
    ["deleteRun", () => storage.deleteRun(workflowId, runId)],
  ];
}

async function codeOf(call: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await call();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return "resolved";
}

describe("an unreachable server", () => {
  it("gives STORAGE_UNAVAILABLE from every method of a store that opened its own client", async () => {
    const port = await freePort();
    const storage = new RedisStorage({ url: `redis://127.0.0.1:${port}`, timeoutMs: 500 });
    for (const [method, call] of everyMethod(storage)) {
      expect(await codeOf(call), method).toBe("STORAGE_UNAVAILABLE");
    }
    await storage.close();
    expect(await codeOf(() => storage.getRun("wf", "run"))).toBe("STORAGE_CLOSED");
  });

  it("gives STORAGE_UNAVAILABLE through a handed client that would queue and retry forever", async () => {
    const port = await freePort();
    const client = new Redis({
      port,
      host: "127.0.0.1",
      lazyConnect: true,
      maxRetriesPerRequest: null,
      retryStrategy: () => 50,
    });
    client.on("error", () => {});
    const storage = new RedisStorage({ client, timeoutMs: 300 });
    try {
      for (const [method, call] of everyMethod(storage)) {
        expect(await codeOf(call), method).toBe("STORAGE_UNAVAILABLE");
      }
      await storage.close();
      expect(client.status).not.toBe("end");
    } finally {
      client.disconnect();
    }
  });
});

describe("a server that goes away and comes back", () => {
  let server: PrivateRedis | undefined;
  afterEach(async () => {
    await server?.stop();
  });

  it("is used again by the same store once it is back", async () => {
    server = await startRedis({ config: { appendonly: "yes" } });
    const storage = new RedisStorage({
      url: server.url,
      timeoutMs: 2000,
      logger: recordingLogger(),
    });
    const runId = "run-1";
    await seedRun(storage, "comeback", 2, runId);
    await server.shutdown();
    expect(await codeOf(() => storage.getRun("comeback", runId))).toBe("STORAGE_UNAVAILABLE");
    expect(await codeOf(() => storage.appendStep(sampleStep("comeback", runId, 3)))).toBe(
      "STORAGE_UNAVAILABLE",
    );
    await server.restart();
    expect((await storage.getRun("comeback", runId)).headStep).toBe(2);
    await storage.appendStep(sampleStep("comeback", runId, 3));
    expect((await storage.getLatestStep("comeback", runId)).step).toBe(3);
    await storage.close();
  });
});

describe("a handed client", () => {
  it("is not ended by close(), and still reads what the store wrote", async () => {
    const client = new Redis(redisUrl());
    const prefix = uniquePrefix("handed");
    try {
      const storage = new RedisStorage({ client, prefix });
      const runId = "run-1";
      await seedRun(storage, "handed", 1, runId);
      await storage.close();
      await storage.close();
      expect(client.status).toBe("ready");
      expect(await client.ping()).toBe("PONG");
      expect(await codeOf(() => storage.getRun("handed", runId))).toBe("STORAGE_CLOSED");
      const again = new RedisStorage({ client, prefix });
      expect((await again.getRun("handed", runId)).headStep).toBe(1);
      await again.deleteRun("handed", runId);
      await again.close();
      expect(await client.ping()).toBe("PONG");
    } finally {
      client.disconnect();
    }
  });
});

describe("closing", () => {
  it("close() lets the process exit, also after calls to an unreachable server", async () => {
    const dead = `redis://127.0.0.1:${await freePort()}`;
    const child = new Fixture("close-exits.js", [redisUrl(), dead, uniquePrefix("exit")]);
    // The bound only detects a process kept alive; it measures nothing.
    expect(await child.finished(30_000)).toEqual(["STORAGE_UNAVAILABLE"]);
  });
});
