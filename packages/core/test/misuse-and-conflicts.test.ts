// Misuse and conflicts: steps taken concurrently, StepConflictError between writers, and wrong calls.
import { describe, expect, it } from "vitest";
import { MemoryStorage, StepConflictError, WorkflowEngine } from "../src/index.js";
import { journal, Script, visit } from "./fixtures.js";

describe("misuse and conflicts", () => {
  it("rejects a second step() while one is running with a plain Error, and the first still lands", async () => {
    const storage = new MemoryStorage();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [visit("slow", { execute: () => gate }), visit("next")],
      edges: [{ from: "slow", to: "next" }],
      storage,
    });

    const first = engine.step();
    const second = engine.step().then(
      () => null,
      (error: unknown) => error,
    );
    const run = engine.run().then(
      () => null,
      (error: unknown) => error,
    );
    release();

    const [misuse, runMisuse] = [await second, await run];
    expect(misuse).toBeInstanceOf(Error);
    expect((misuse as Error).constructor).toBe(Error);
    expect(misuse).not.toHaveProperty("code");
    expect((runMisuse as Error).constructor).toBe(Error);
    await expect(first).resolves.toBe(true);
    expect((await journal(storage, engine)).map((r) => r.previousNodeId)).toEqual([null, "slow"]);

    await expect(engine.step()).resolves.toBe(false);
    expect(engine.shared).toEqual({ visited: ["slow", "next"] });
  });

  it("leaves the losing engine's state and the store untouched when another engine appended first", async () => {
    const storage = new MemoryStorage();
    const nodes = [
      new Script({
        id: "count",
        cleanup: (shared) => {
          shared.count = (shared.count as number) + 1;
        },
      }),
    ];
    const winner = await WorkflowEngine.create({
      workflowId: "w",
      nodes,
      initialState: { count: 0 },
      storage,
    });
    const loser = await WorkflowEngine.create({
      workflowId: "w",
      nodes,
      storage,
      runId: winner.runId,
    });
    await winner.step();
    const stored = await journal(storage, winner);

    const attempt = loser.step();

    await expect(attempt).rejects.toThrow(StepConflictError);
    await expect(attempt).rejects.toMatchObject({ code: "STEP_CONFLICT", step: 1 });
    expect(loser.shared).toEqual({ count: 0 });
    expect(loser.status).toBe("running");
    expect(loser.currentStep).toBe(0);
    expect(loser.headStep).toBe(0);
    expect(await journal(storage, winner)).toEqual(stored);
    expect(await storage.getRun("w", winner.runId)).toMatchObject({
      headStep: 1,
      status: "completed",
    });
  });

  it("lets exactly one of two engines racing for the same step win", async () => {
    const storage = new MemoryStorage();
    const nodes = [
      new Script({
        id: "count",
        cleanup: (shared) => {
          shared.count = (shared.count as number) + 1;
        },
      }),
    ];
    const a = await WorkflowEngine.create({
      workflowId: "w",
      nodes,
      initialState: { count: 0 },
      storage,
    });
    const b = await WorkflowEngine.create({ workflowId: "w", nodes, storage, runId: a.runId });

    const results = await Promise.allSettled([a.step(), b.step()]);

    const rejected = results.flatMap((r, i) =>
      r.status === "rejected" ? [{ i, reason: r.reason }] : [],
    );
    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.reason).toMatchObject({ code: "STEP_CONFLICT" });
    const [winner, loser] = rejected[0]?.i === 0 ? [b, a] : [a, b];
    expect(loser.shared).toEqual({ count: 0 });
    expect(winner.shared).toEqual({ count: 1 });
    const records = await journal(storage, winner);
    expect(records).toHaveLength(2);
    expect(records[1]).toEqual((await winner.history()).at(-1));

    const reopened = await WorkflowEngine.create({
      workflowId: "w",
      nodes,
      storage,
      runId: a.runId,
    });
    expect(reopened).toMatchObject({ headStep: 1, status: "completed", shared: { count: 1 } });
  });
});
