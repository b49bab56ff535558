// Bounded failure and client ownership: an unreachable server gives
// STORAGE_UNAVAILABLE, also through a handed client configured to queue
// forever, as soon as the connection is refused and saying nothing was sent;
// a write whose reply is lost says it may still be applied; refusals that
// last (credentials, ACL, database number) are STORAGE_MISCONFIGURED; a
// server that comes back is used again; close() never ends a client the
// store was handed.
import { freePort } from "@wf/test-services";
import { type PrivateRedis, startRedis } from "@wf/test-services/redis";
import { Redis, type RedisOptions } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { RedisStorage } from "../src/index.js";
import { KeyLayout } from "../src/keys.js";
import {
  Fixture,
  recordingLogger,
  redisUrl,
  rejection,
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

/** The rejection of `call`, and how long it took to come. */
async function timedRejection(
  call: () => Promise<unknown>,
): Promise<{ error: Error & { code?: string; cause?: unknown }; ms: number }> {
  const started = performance.now();
  const error = await rejection(call());
  return { error, ms: performance.now() - started };
}

/** A handed client that would queue commands and retry forever. */
function patientClient(port: number, options: RedisOptions = {}): Redis {
  const client = new Redis({
    port,
    host: "127.0.0.1",
    lazyConnect: true,
    maxRetriesPerRequest: null,
    retryStrategy: () => 50,
    ...options,
  });
  client.on("error", () => {});
  return client;
}

// Generous on purpose: the point is "at once" against a 20 s timeout, not a speed.
const LONG_TIMEOUT_MS = 20_000;
const WELL_BEFORE_MS = 10_000;

describe("a refused connection", () => {
  it("fails every method at once, long before timeoutMs, with the driver's error as cause and saying nothing was sent", async () => {
    const port = await freePort();
    const own = new RedisStorage({
      url: `redis://127.0.0.1:${port}`,
      timeoutMs: LONG_TIMEOUT_MS,
      logger: recordingLogger(),
    });
    const client = patientClient(port);
    const handed = new RedisStorage({ client, timeoutMs: LONG_TIMEOUT_MS });
    try {
      for (const storage of [handed, own]) {
        for (const [method, call] of everyMethod(storage)) {
          const { error, ms } = await timedRejection(call);
          expect(error.code, method).toBe("STORAGE_UNAVAILABLE");
          expect(ms, method).toBeLessThan(WELL_BEFORE_MS);
          expect((error.cause as { code?: string }).code, method).toBe("ECONNREFUSED");
          expect(error.message, method).toContain("nothing was sent");
          expect(error.message, method).not.toContain("may still be applied");
        }
      }
    } finally {
      await Promise.all([own.close(), handed.close()]);
      client.disconnect();
    }
  });
});

describe("a write whose reply is lost", () => {
  let server: PrivateRedis | undefined;
  afterEach(async () => {
    await server?.stop();
  });

  it("says the write may still be applied, and it is", async () => {
    server = await startRedis();
    const storage = new RedisStorage({
      url: server.url,
      timeoutMs: 300,
      logger: recordingLogger(),
    });
    const admin = new Redis(server.url);
    try {
      const runId = await seedRun(storage, "paused", 1);
      // The server holds every command for a while: the append is sent, its reply comes too late.
      await admin.client("PAUSE", 1500, "ALL");
      const error = await rejection(storage.appendStep(sampleStep("paused", runId, 2)));
      expect(error.code).toBe("STORAGE_UNAVAILABLE");
      expect(error.message).toContain("may still be applied");
      let head = 1;
      for (let attempt = 0; attempt < 100 && head === 1; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        head = await storage.getRun("paused", runId).then(
          (run) => run.headStep,
          () => 1,
        );
      }
      expect(head).toBe(2);
      expect((await storage.getLatestStep("paused", runId)).shared).toEqual({ step: 2 });
    } finally {
      admin.disconnect();
      await storage.close();
    }
  });
});

describe("refusals that last", () => {
  let server: PrivateRedis | undefined;
  afterEach(async () => {
    await server?.stop();
  });

  it("a wrong or missing password, an ACL refusal and a database number out of range are STORAGE_MISCONFIGURED with the server's error as cause, and write nothing", async () => {
    server = await startRedis({ config: { databases: "2" } });
    const { port } = server;
    const url = (auth: string, db = 0) => `redis://${auth}127.0.0.1:${port}/${db}`;
    // Set at run time: the server must answer PING without a password while it starts.
    const admin = new Redis(url(""));
    await admin.acl("SETUSER", "limited", "on", ">pw", "~*", "+@all", "-@scripting");
    await admin.config("SET", "requirepass", "secret");
    const prefix = uniquePrefix("refused");
    const cases: [string, () => RedisStorage, RegExp][] = [
      ["wrong password", () => open({ url: url(":wrong@") }), /WRONGPASS/],
      ["no password", () => open({ url: url("") }), /NOAUTH/],
      ["ACL without scripting", () => open({ url: url("limited:pw@") }), /NOPERM/],
      ["database 5 of 2", () => open({ url: url(":secret@", 5) }), /DB index is out of range/],
      [
        "handed client, wrong password",
        () => open({ client: patientClient(port, { password: "wrong" }) }),
        /WRONGPASS/,
      ],
    ];
    function open(options: { url?: string; client?: Redis }): RedisStorage {
      return new RedisStorage({
        ...options,
        prefix,
        timeoutMs: LONG_TIMEOUT_MS,
        logger: recordingLogger(),
      });
    }
    try {
      for (const [what, create, cause] of cases) {
        const storage = create();
        const createRun = () =>
          storage.createRun(sampleRun("wf", "run"), sampleStep("wf", "run", 0));
        for (const call of [createRun, () => storage.getLatestStep("wf", "run")]) {
          const { error, ms } = await timedRejection(call);
          expect(error.code, what).toBe("STORAGE_MISCONFIGURED");
          expect(ms, what).toBeLessThan(WELL_BEFORE_MS);
          expect(String((error.cause as Error)?.message), what).toMatch(cause);
        }
        await storage.close();
      }
      // Nothing reached the run's key (database 0 is where ioredis carried on after SELECT failed).
      expect(await admin.exists(new KeyLayout(prefix).runKey("wf", "run"))).toBe(0);
      const storage = open({ url: url(":secret@") });
      await seedRun(storage, "wf", 1, "run");
      expect((await storage.getRun("wf", "run")).headStep).toBe(1);
      await storage.close();
    } finally {
      admin.disconnect();
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
