// Durability: a private redis-server with appendonly yes and appendfsync
// always is killed with SIGKILL mid-run; after a restart every step the store
// acknowledged is there and the run resumes, through the same store.
import { Node, type SharedState, WorkflowEngine } from "@wf/core";
import { type PrivateRedis, startRedis } from "@wf/test-services/redis";
import { afterEach, describe, expect, it } from "vitest";
import { RedisStorage } from "../src/index.js";
import { recordingLogger } from "./helpers.js";

const TARGET = 200;
const KILL_AFTER = 40;

class Tick extends Node {
  override cleanup(shared: SharedState): void {
    shared.count = (shared.count as number) + 1;
  }
}

const definition = {
  workflowId: "crash",
  nodes: [new Tick({ id: "tick" })],
  edges: [
    { from: "tick", to: "tick", when: (shared: SharedState) => (shared.count as number) < TARGET },
  ],
};

describe("a Redis server killed mid-run", () => {
  let server: PrivateRedis | undefined;
  afterEach(async () => {
    await server?.stop();
  });

  it("with appendfsync always, every acknowledged step survives SIGKILL and the run resumes", async () => {
    server = await startRedis({ config: { appendonly: "yes", appendfsync: "always" } });
    const logger = recordingLogger();
    const storage = new RedisStorage({ url: server.url, logger });
    const engine = await WorkflowEngine.create({
      ...definition,
      storage,
      initialState: { count: 0 },
    });

    let acknowledged = 0;
    let killed: Promise<void> | undefined;
    let failure: (Error & { code?: string }) | undefined;
    for (let round = 0; round < TARGET && !failure; round++) {
      // Killed without waiting, so the appends that follow race the kill.
      if (acknowledged === KILL_AFTER) killed ??= server.kill();
      try {
        await engine.step();
        acknowledged = engine.currentStep;
      } catch (error) {
        failure = error as Error & { code?: string };
      }
    }
    expect(failure?.code).toBe("STORAGE_UNAVAILABLE");
    expect(acknowledged).toBeGreaterThanOrEqual(KILL_AFTER);
    await killed;
    await server.restart();

    const run = await storage.getRun(definition.workflowId, engine.runId);
    expect(run.headStep).toBeGreaterThanOrEqual(acknowledged);
    const steps = (await storage.listSteps(definition.workflowId, engine.runId, { limit: 1000 }))
      .items;
    expect(steps.map((record) => record.step)).toEqual(
      Array.from({ length: run.headStep + 1 }, (_, i) => i),
    );
    for (const record of steps) expect(record.shared).toEqual({ count: record.step });

    const resumed = await WorkflowEngine.create({ ...definition, storage, runId: engine.runId });
    expect(resumed.shared).toEqual({ count: run.headStep });
    expect(await resumed.run()).toBe("completed");
    expect((await storage.getLatestStep(definition.workflowId, engine.runId)).shared).toEqual({
      count: TARGET,
    });
    // A server that persists every write is not warned about.
    expect(logger.messages).toEqual([]);
    await storage.close();
  });
});
