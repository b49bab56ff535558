// A server that goes away mid-run: on a private PostgreSQL the test stops
// (cleanly, then crash-like), operations fail with STORAGE_UNAVAILABLE rather
// than hang, and once the server is back a new engine on the same store
// resumes the run with every acknowledged step in place.
import { WorkflowEngine } from "@wf/core";
import { type PrivatePostgres, startPrivatePostgres } from "@wf/test-services/postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresStorage } from "../src/index.js";
import { ticker } from "./fixtures/ticker.mjs";
import { allSteps, rejection } from "./helpers.js";

/** Bounds the background stepping loop; the server goes away long before. */
const MAX_STEPS = 100_000;

describe("a server that goes away and comes back", () => {
  let server: PrivatePostgres;
  let storage: PostgresStorage;

  beforeAll(async () => {
    server = await startPrivatePostgres();
    storage = new PostgresStorage({ connectionString: server.url, connectionTimeoutMillis: 2000 });
  });

  afterAll(async () => {
    await storage?.close();
    await server?.destroy();
  });

  /**
   * Steps an engine in the background until a step fails, recording each step
   * the storage acknowledged; `halt` takes the server away once a few steps
   * are in. Resolves to the acknowledged steps and the error that ended it.
   */
  async function runUntilServerGoes(
    engine: WorkflowEngine,
    halt: () => Promise<void>,
  ): Promise<{ acknowledged: number[]; error: Error & { code?: string } }> {
    const acknowledged: number[] = [];
    let reachedThree: () => void = () => {};
    const threeSteps = new Promise<void>((resolve) => {
      reachedThree = resolve;
    });
    const stepping = (async () => {
      for (let i = 0; i < MAX_STEPS; i++) {
        await engine.step();
        acknowledged.push(engine.headStep);
        if (acknowledged.length === 3) reachedThree();
      }
      throw new Error(`the engine took ${MAX_STEPS} steps without noticing the server was gone`);
    })();
    const failure = rejection(stepping);
    await Promise.race([threeSteps, failure]);
    await halt();
    return { acknowledged, error: await failure };
  }

  for (const [how, halt] of [
    ["stopped cleanly", () => server.stop()],
    ["crashed (immediate shutdown)", () => server.kill()],
  ] as const) {
    it(`a server ${how} mid-run gives STORAGE_UNAVAILABLE; once restarted, a new engine on the same store resumes with no acknowledged step lost`, async () => {
      const workflowId = `outage-${how.split(" ")[0]}`;
      const definition = ticker(workflowId, 1_000_000);
      const engine = await WorkflowEngine.create({ ...definition, storage });
      const { acknowledged, error } = await runUntilServerGoes(engine, halt);
      expect(error.code).toBe("STORAGE_UNAVAILABLE");
      expect(acknowledged.length).toBeGreaterThanOrEqual(3);
      // Every kind of call fails the same way while it is down.
      expect((await rejection(storage.getRun(workflowId, engine.runId))).code).toBe(
        "STORAGE_UNAVAILABLE",
      );
      expect((await rejection(storage.listWorkflows())).code).toBe("STORAGE_UNAVAILABLE");

      await server.restart();
      const resumed = await WorkflowEngine.create({
        ...definition,
        storage,
        runId: engine.runId,
      });
      // The step in flight when the server went may or may not have committed; nothing before it is lost.
      const lastAcknowledged = acknowledged.at(-1) as number;
      expect(resumed.headStep).toBeGreaterThanOrEqual(lastAcknowledged);
      expect(resumed.headStep).toBeLessThanOrEqual(lastAcknowledged + 1);
      expect(resumed.shared).toMatchObject({ count: resumed.headStep });
      await resumed.step();
      await resumed.step();

      const steps = await allSteps(storage, workflowId, engine.runId);
      expect(steps.map((s) => s.step)).toEqual(
        Array.from({ length: resumed.headStep + 1 }, (_, i) => i),
      );
      for (const step of acknowledged) {
        expect(steps[step]).toMatchObject({ step, parent: step - 1, shared: { count: step } });
      }
    });
  }

  it("a store first used while the server is down fails with STORAGE_UNAVAILABLE, then works once it is up", async () => {
    await server.stop();
    const fresh = new PostgresStorage({
      connectionString: server.url,
      schema: "fresh",
      connectionTimeoutMillis: 2000,
    });
    try {
      expect((await rejection(fresh.listWorkflows())).code).toBe("STORAGE_UNAVAILABLE");
      expect((await rejection(fresh.migrate())).code).toBe("STORAGE_UNAVAILABLE");
      await server.restart();
      const engine = await WorkflowEngine.create({ ...ticker("fresh", 2), storage: fresh });
      expect(await engine.run()).toBe("completed");
      expect((await fresh.listWorkflows()).items).toEqual(["fresh"]);
    } finally {
      await fresh.close();
    }
  });
});
