// WorkflowEngine.create misuse: bad definitions, ids, resumeFrom and initial state are refused before anything is written.
import { describe, expect, it } from "vitest";
import {
  type Edge,
  InvalidIdError,
  MemoryStorage,
  Node,
  NotSerializableError,
  RunNotFoundError,
  StepNotFoundError,
  WorkflowEngine,
  type WorkflowEngineOptions,
} from "../src/index.js";
import { visit } from "./fixtures.js";

class Fetch extends Node {}

async function workflowsIn(storage: MemoryStorage): Promise<string[]> {
  return (await storage.listWorkflows()).items;
}

/** Expects `create(options)` to reject with `kind` and leave `storage` empty; returns the error. */
async function refused(
  options: Omit<WorkflowEngineOptions, "storage">,
  kind: abstract new (...args: never[]) => Error,
): Promise<Error> {
  const storage = new MemoryStorage();
  const error = await WorkflowEngine.create({ ...options, storage }).then(
    () => null,
    (rejection: unknown) => rejection,
  );
  expect(error).toBeInstanceOf(kind);
  expect(await workflowsIn(storage)).toEqual([]);
  return error as Error;
}

describe("node ids", () => {
  it("default to the class name", () => {
    expect(new Fetch().id).toBe("Fetch");
    expect(new Fetch({ id: "fetch-2" }).id).toBe("fetch-2");
  });

  it("are validated when the node is built", () => {
    expect(() => new Fetch({ id: "../x" })).toThrow(InvalidIdError);
  });
});

describe("WorkflowEngine.create with a bad definition", () => {
  it("rejects two nodes with one id with a TypeError naming the id, writing nothing", async () => {
    const error = await refused({ workflowId: "w", nodes: [visit("a"), visit("a")] }, TypeError);

    expect(error.message).toContain('"a"');
  });

  it("rejects two nodes whose id defaulted to the same class name", async () => {
    const error = await refused({ workflowId: "w", nodes: [new Fetch(), new Fetch()] }, TypeError);

    expect(error.message).toContain('"Fetch"');
  });

  it("rejects an edge to an unknown node with a TypeError naming it, writing nothing", async () => {
    const edges: Edge[] = [{ from: "a", to: "nowhere" }];
    const error = await refused({ workflowId: "w", nodes: [visit("a")], edges }, TypeError);

    expect(error.message).toContain('"nowhere"');
  });

  it("rejects an edge from an unknown node with a TypeError, writing nothing", async () => {
    const edges: Edge[] = [{ from: "ghost", to: "a" }];
    const error = await refused({ workflowId: "w", nodes: [visit("a")], edges }, TypeError);

    expect(error.message).toContain('"ghost"');
  });

  it("rejects an unknown start node with a TypeError, writing nothing", async () => {
    const error = await refused({ workflowId: "w", nodes: [visit("a")], start: "b" }, TypeError);

    expect(error.message).toContain('"b"');
  });

  it("rejects a workflow without nodes with a TypeError, writing nothing", async () => {
    await refused({ workflowId: "w", nodes: [] }, TypeError);
  });

  it("rejects a `when` that is not a function with a TypeError, writing nothing", async () => {
    const edges = [{ from: "a", to: "a", when: true }] as unknown as Edge[];

    await refused({ workflowId: "w", nodes: [visit("a")], edges }, TypeError);
  });

  it("rejects resumeFrom or fork without a runId with a TypeError", async () => {
    await refused({ workflowId: "w", nodes: [visit("a")], resumeFrom: 0 }, TypeError);
    await refused({ workflowId: "w", nodes: [visit("a")], fork: true }, TypeError);
  });
});

describe("WorkflowEngine.create with bad ids", () => {
  it.each(["../x", "", "x".repeat(500)])(
    "rejects the workflowId %j with INVALID_ID, writing nothing",
    async (workflowId) => {
      const error = await refused({ workflowId, nodes: [visit("a")] }, InvalidIdError);

      expect(error).toMatchObject({ code: "INVALID_ID", kind: "workflowId" });
    },
  );

  it.each(["../x", "", "x".repeat(500)])(
    "rejects the runId %j with INVALID_ID, writing nothing",
    async (runId) => {
      const error = await refused({ workflowId: "w", nodes: [visit("a")], runId }, InvalidIdError);

      expect(error).toMatchObject({ code: "INVALID_ID", kind: "runId" });
    },
  );
});

describe("WorkflowEngine.create resuming", () => {
  async function existingRun() {
    const storage = new MemoryStorage();
    const nodes = [visit("a"), visit("b")];
    const edges: Edge[] = [{ from: "a", to: "b" }];
    const engine = await WorkflowEngine.create({ workflowId: "w", nodes, edges, storage });
    await engine.run();
    const before = JSON.stringify(await storage.listSteps("w", engine.runId));
    return { storage, nodes, edges, runId: engine.runId, before };
  }

  it.each([-1, 1.5, Number.NaN, "3", Number.POSITIVE_INFINITY])(
    "rejects resumeFrom %j with a RangeError, writing nothing",
    async (resumeFrom) => {
      const { storage, nodes, edges, runId, before } = await existingRun();

      await expect(
        WorkflowEngine.create({
          workflowId: "w",
          nodes,
          edges,
          storage,
          runId,
          resumeFrom: resumeFrom as number,
        }),
      ).rejects.toThrow(RangeError);
      expect(JSON.stringify(await storage.listSteps("w", runId))).toBe(before);
      expect((await storage.listRuns("w")).items).toHaveLength(1);
    },
  );

  it("rejects resumeFrom past the head with STEP_NOT_FOUND, writing nothing", async () => {
    const { storage, nodes, edges, runId, before } = await existingRun();

    const attempt = WorkflowEngine.create({
      workflowId: "w",
      nodes,
      edges,
      storage,
      runId,
      resumeFrom: 3,
    });

    await expect(attempt).rejects.toThrow(StepNotFoundError);
    await expect(attempt).rejects.toMatchObject({ code: "STEP_NOT_FOUND", step: 3 });
    expect(JSON.stringify(await storage.listSteps("w", runId))).toBe(before);
  });

  it("rejects forking past the head with STEP_NOT_FOUND, creating no run", async () => {
    const { storage, nodes, edges, runId } = await existingRun();

    await expect(
      WorkflowEngine.create({
        workflowId: "w",
        nodes,
        edges,
        storage,
        runId,
        resumeFrom: 9,
        fork: true,
      }),
    ).rejects.toMatchObject({ code: "STEP_NOT_FOUND" });
    expect((await storage.listRuns("w")).items.map((run) => run.runId)).toEqual([runId]);
  });

  it("rejects an unknown runId with RUN_NOT_FOUND, writing nothing", async () => {
    const error = await refused(
      { workflowId: "w", nodes: [visit("a")], runId: "20240101_000000_000_000000000000" },
      RunNotFoundError,
    );

    expect(error).toMatchObject({ code: "RUN_NOT_FOUND" });
  });

  it("rejects the runId of another workflow with RUN_NOT_FOUND", async () => {
    const { storage, nodes, runId } = await existingRun();

    await expect(
      WorkflowEngine.create({ workflowId: "other", nodes, storage, runId }),
    ).rejects.toMatchObject({ code: "RUN_NOT_FOUND" });
    expect(await workflowsIn(storage)).toEqual(["w"]);
  });
});

describe("WorkflowEngine.create with a bad initial state", () => {
  it("rejects a Date in initialState with NOT_SERIALIZABLE naming initialState.when, writing nothing", async () => {
    const error = await refused(
      { workflowId: "w", nodes: [visit("a")], initialState: { when: new Date(0) } },
      NotSerializableError,
    );

    expect(error).toMatchObject({ code: "NOT_SERIALIZABLE", path: "initialState.when" });
    expect(error.message).toContain("initialState.when");
  });

  it("rejects a nested non-JSON value in initialState naming its full path", async () => {
    const error = await refused(
      { workflowId: "w", nodes: [visit("a")], initialState: { user: { tags: [1, 2n] } } },
      NotSerializableError,
    );

    expect(error).toMatchObject({ path: "initialState.user.tags[1]" });
  });

  it("rejects an initialState that is not a plain object with a TypeError, writing nothing", async () => {
    await refused(
      {
        workflowId: "w",
        nodes: [visit("a")],
        initialState: [1, 2] as unknown as Record<string, unknown>,
      },
      TypeError,
    );
  });
});
