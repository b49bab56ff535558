// Failed runs: the failed record, its error, and retrying the failed node by stepping again.
import { describe, expect, it } from "vitest";
import { type Edge, MemoryStorage, WorkflowEngine } from "../src/index.js";
import { journal, Script, visit } from "./fixtures.js";

describe("failed runs", () => {
  const flakyOnce = (calls: { count: number }) =>
    new Script({
      id: "flaky",
      execute: () => {
        calls.count += 1;
        if (calls.count === 1)
          throw Object.assign(new Error("first call fails"), { code: "E_FLAKY" });
        return calls.count;
      },
      cleanup: (shared, _p, result) => {
        shared.calls = result;
      },
    });

  it("retry the failed node on the next step of a reopened engine", async () => {
    const storage = new MemoryStorage();
    const calls = { count: 0 };
    const nodes = [visit("before"), flakyOnce(calls), visit("after")];
    const edges: Edge[] = [
      { from: "before", to: "flaky" },
      { from: "flaky", to: "after" },
    ];
    const engine = await WorkflowEngine.create({ workflowId: "w", nodes, edges, storage });
    await expect(engine.run()).resolves.toBe("failed");

    const reopened = await WorkflowEngine.create({
      workflowId: "w",
      nodes,
      edges,
      storage,
      runId: engine.runId,
    });

    expect(reopened.status).toBe("failed");
    expect(reopened.nextNodeId).toBe("flaky");
    expect(reopened.error?.message).toBe("first call fails");
    expect(reopened.error).toMatchObject({ code: "E_FLAKY" });
    expect(reopened.shared).toEqual({ visited: ["before"] });

    await expect(reopened.run()).resolves.toBe("completed");

    expect(calls.count).toBe(2);
    expect(reopened.error).toBeUndefined();
    const records = await journal(storage, engine);
    expect(records.map((r) => [r.step, r.parent, r.previousNodeId, r.status])).toEqual([
      [0, null, null, "running"],
      [1, 0, "before", "running"],
      [2, 1, "flaky", "failed"],
      [3, 2, "flaky", "running"],
      [4, 3, "after", "completed"],
    ]);
    expect(records[3]?.nodeStatuses).toEqual({ before: "completed", flaky: "completed" });
    expect(records[4]?.shared).toEqual({ visited: ["before", "after"], calls: 2 });
  });

  it("retry the failed node when the same engine is stepped again", async () => {
    const storage = new MemoryStorage();
    const calls = { count: 0 };
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [flakyOnce(calls)],
      storage,
    });

    await expect(engine.step()).resolves.toBe(false);
    expect(engine.status).toBe("failed");
    await expect(engine.step()).resolves.toBe(false);

    expect(engine.status).toBe("completed");
    expect(engine.shared).toEqual({ calls: 2 });
    expect((await journal(storage, engine)).map((r) => r.status)).toEqual([
      "running",
      "failed",
      "completed",
    ]);
  });
});
