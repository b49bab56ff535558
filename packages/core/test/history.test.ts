// engine.history() and the positions an engine reports, and which run a resumed fork appends to.
import { describe, expect, it } from "vitest";
import { type Edge, MemoryStorage, WorkflowEngine } from "../src/index.js";
import { journal, visit } from "./fixtures.js";

describe("history and positions", () => {
  const chain = () => ({
    nodes: [visit("a"), visit("b"), visit("c")],
    edges: [
      { from: "a", to: "b" },
      { from: "b", to: "c" },
    ] as Edge[],
  });

  it("history() lists the timeline's records oldest first, ending at the current step", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({ workflowId: "w", ...chain(), storage });
    expect((await engine.history()).map((r) => r.step)).toEqual([0]);

    await engine.run();

    const history = await engine.history();
    expect(history.map((r) => r.step)).toEqual([0, 1, 2, 3]);
    expect(history).toEqual(await journal(storage, engine));
    expect(engine.currentStep).toBe(3);
    expect(engine.headStep).toBe(3);
  });

  it("history() after a resume from step k follows parents past the superseded branch", async () => {
    const storage = new MemoryStorage();
    const first = await WorkflowEngine.create({ workflowId: "w", ...chain(), storage });
    await first.run();

    const resumed = await WorkflowEngine.create({
      workflowId: "w",
      ...chain(),
      storage,
      runId: first.runId,
      resumeFrom: 1,
    });

    expect(resumed.currentStep).toBe(1);
    expect(resumed.headStep).toBe(3);
    expect(resumed.status).toBe("running");
    expect(resumed.nextNodeId).toBe("b");
    expect(resumed.shared).toEqual({ visited: ["a"] });
    expect((await resumed.history()).map((r) => r.step)).toEqual([0, 1]);

    await expect(resumed.run()).resolves.toBe("completed");

    expect(resumed.currentStep).toBe(5);
    expect(resumed.headStep).toBe(5);
    const history = await resumed.history();
    expect(history.map((r) => [r.step, r.parent, r.previousNodeId])).toEqual([
      [0, null, null],
      [1, 0, "a"],
      [4, 1, "b"],
      [5, 4, "c"],
    ]);
    // The superseded branch is still stored, and the first engine still sees its own timeline.
    expect((await journal(storage, resumed)).map((r) => r.step)).toEqual([0, 1, 2, 3, 4, 5]);
    expect((await first.history()).map((r) => r.step)).toEqual([0, 1, 2, 3]);
  });

  it("history() hands out copies that cannot change the engine's state", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({ workflowId: "w", ...chain(), storage });
    await engine.step();

    const copy = (await engine.history()).at(-1)?.shared as { visited: string[] } | undefined;
    copy?.visited.push("tampered");
    expect(copy?.visited).toEqual(["a", "tampered"]);

    expect(engine.shared).toEqual({ visited: ["a"] });
    expect((await engine.history()).at(-1)?.shared).toEqual({ visited: ["a"] });
  });
});

describe("a fork resumed from before its fork point", () => {
  it("appends to the fork, continuing from the source's record, and leaves the source alone", async () => {
    const storage = new MemoryStorage();
    const definition = {
      workflowId: "w",
      nodes: [visit("a"), visit("b"), visit("c")],
      edges: [
        { from: "a", to: "b" },
        { from: "b", to: "c" },
      ] as Edge[],
      storage,
    };
    const source = await WorkflowEngine.create(definition);
    await source.run();
    const sourceSteps = await journal(storage, source);
    const fork = await WorkflowEngine.create({
      ...definition,
      runId: source.runId,
      resumeFrom: 2,
      fork: true,
    });
    const resumed = await WorkflowEngine.create({
      ...definition,
      runId: fork.runId,
      resumeFrom: 1,
    });
    await resumed.step();

    const [, appended] = await journal(storage, resumed);
    expect(appended).toMatchObject({ runId: fork.runId, step: 3, parent: 1, previousNodeId: "b" });
    expect(await journal(storage, source)).toEqual(sourceSteps);
  });
});
