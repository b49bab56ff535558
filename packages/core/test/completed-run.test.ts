// A completed run: stepping it again, and continuing it when the definition adds an edge.
import { describe, expect, it } from "vitest";
import { MemoryStorage, WorkflowEngine } from "../src/index.js";
import { journal, visit } from "./fixtures.js";

describe("a completed run", () => {
  it("continues when reopened with a definition that adds an edge out of its last node", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({ workflowId: "w", nodes: [visit("a")], storage });
    await expect(engine.run()).resolves.toBe("completed");

    const extended = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [visit("a"), visit("b")],
      edges: [{ from: "a", to: "b" }],
      storage,
      runId: engine.runId,
    });

    expect(extended.status).toBe("running");
    expect(extended.nextNodeId).toBe("b");
    await expect(extended.run()).resolves.toBe("completed");

    expect(extended.shared).toEqual({ visited: ["a", "b"] });
    const records = await journal(storage, engine);
    expect(records.map((r) => [r.step, r.parent, r.previousNodeId, r.status])).toEqual([
      [0, null, null, "running"],
      [1, 0, "a", "completed"],
      [2, 1, "b", "completed"],
    ]);
    expect(records[2]?.nodeStatuses).toEqual({ a: "completed", b: "completed" });
  });

  it("stays completed when reopened with the same definition, writing nothing", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({ workflowId: "w", nodes: [visit("a")], storage });
    await engine.run();
    const before = await journal(storage, engine);

    const reopened = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [visit("a")],
      storage,
      runId: engine.runId,
    });

    await expect(reopened.run()).resolves.toBe("completed");
    expect(await journal(storage, engine)).toEqual(before);
  });
});
