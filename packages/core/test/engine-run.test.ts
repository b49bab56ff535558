// WorkflowEngine on MemoryStorage: what a new run journals, and how edges choose the next node.
import { describe, expect, it } from "vitest";
import { type Edge, MemoryStorage, Node, RUN_ID_PATTERN, WorkflowEngine } from "../src/index.js";
import { journal, Script, visit } from "./fixtures.js";

describe("a new run", () => {
  it("starts with step 0: running, no parent, no previous node, the start node next", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "greeter",
      nodes: [visit("a"), visit("b")],
      edges: [{ from: "b", to: "a" }],
      start: "b",
      initialState: { name: "Ada" },
      storage,
    });

    expect(engine.runId).toMatch(RUN_ID_PATTERN);
    expect(engine.workflowId).toBe("greeter");
    expect(engine.status).toBe("running");
    expect(engine.currentStep).toBe(0);
    expect(engine.headStep).toBe(0);
    expect(engine.nextNodeId).toBe("b");
    expect(engine.shared).toEqual({ name: "Ada" });
    expect(engine.awaitingInput).toBeNull();
    expect(engine.error).toBeUndefined();
    const [zero, ...rest] = await journal(storage, engine);
    expect(rest).toEqual([]);
    expect(zero).toMatchObject({
      workflowId: "greeter",
      runId: engine.runId,
      step: 0,
      parent: null,
      status: "running",
      previousNodeId: null,
      nextNodeId: "b",
      shared: { name: "Ada" },
      nodeStatuses: {},
      awaitingInput: null,
      inputs: {},
      error: null,
    });
    expect(new Date(zero?.createdAt ?? "").toISOString()).toBe(zero?.createdAt);
  });

  it("stores run metadata with the definition fingerprint: node ids and types, edges and a sha256 hash", async () => {
    class Fetch extends Node {}
    class Review extends Node {
      static type = "ReviewV2";
    }
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [new Fetch(), new Review({ id: "review" })],
      edges: [
        { from: "Fetch", to: "review", when: (s) => s.ok === true },
        { from: "review", to: "Fetch" },
      ],
      storage,
    });

    const run = await storage.getRun("w", engine.runId);

    expect(run).toMatchObject({
      workflowId: "w",
      runId: engine.runId,
      status: "running",
      headStep: 0,
      forkedFrom: null,
    });
    expect(run.definition).toMatchObject({
      start: "Fetch",
      nodes: [
        { id: "Fetch", type: "Fetch" },
        { id: "review", type: "ReviewV2" },
      ],
      edges: [
        { from: "Fetch", to: "review", conditional: true },
        { from: "review", to: "Fetch", conditional: false },
      ],
    });
    expect(run.definition.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("gives definitions that differ only in an edge condition different hashes", async () => {
    const storage = new MemoryStorage();
    const create = (edges: Edge[]) =>
      WorkflowEngine.create({ workflowId: "w", nodes: [visit("a"), visit("b")], edges, storage });
    const plain = await create([{ from: "a", to: "b" }]);
    const conditional = await create([{ from: "a", to: "b", when: () => true }]);
    const again = await create([{ from: "a", to: "b" }]);

    const hashOf = async (engine: WorkflowEngine) =>
      (await storage.getRun("w", engine.runId)).definition.hash;

    expect(await hashOf(plain)).not.toBe(await hashOf(conditional));
    expect(await hashOf(plain)).toBe(await hashOf(again));
  });
});

describe("edges", () => {
  const branching = (flags: { first: boolean; second: boolean }): Edge[] => [
    { from: "start", to: "fallback" },
    { from: "start", to: "first", when: () => flags.first },
    { from: "start", to: "second", when: () => flags.second },
    { from: "start", to: "later-fallback" },
  ];
  const nodes = () =>
    ["start", "fallback", "first", "second", "later-fallback"].map((id) => visit(id));

  it("take the first edge whose condition holds, even when an unconditional edge is declared before it", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: nodes(),
      edges: branching({ first: false, second: true }),
      storage,
    });

    await expect(engine.run()).resolves.toBe("completed");

    expect(engine.shared.visited).toEqual(["start", "second"]);
    const records = await journal(storage, engine);
    expect(records.map((r) => r.previousNodeId)).toEqual([null, "start", "second"]);
    expect(records[1]?.nextNodeId).toBe("second");
  });

  it("take the first conditional edge in declaration order when several hold", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: nodes(),
      edges: branching({ first: true, second: true }),
      storage,
    });

    await engine.run();

    expect(engine.shared.visited).toEqual(["start", "first"]);
  });

  it("fall back to the first edge without a condition when no condition holds", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: nodes(),
      edges: branching({ first: false, second: false }),
      storage,
    });

    await engine.run();

    expect(engine.shared.visited).toEqual(["start", "fallback"]);
  });

  it("are chosen from the shared state after the node's cleanup", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [
        new Script({
          id: "decide",
          cleanup: (shared) => {
            shared.loud = true;
          },
        }),
        visit("quiet"),
        visit("shout"),
      ],
      edges: [
        { from: "decide", to: "shout", when: (s) => s.loud === true },
        { from: "decide", to: "quiet" },
      ],
      storage,
    });

    await engine.run();

    expect(engine.shared).toEqual({ loud: true, visited: ["shout"] });
  });

  it("complete the run when a node has no edge out, and step() then does nothing", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [visit("only")],
      storage,
    });

    await expect(engine.step()).resolves.toBe(false);

    expect(engine.status).toBe("completed");
    expect(engine.nextNodeId).toBeNull();
    const records = await journal(storage, engine);
    expect(records).toHaveLength(2);
    expect(records[1]).toMatchObject({
      step: 1,
      parent: 0,
      status: "completed",
      previousNodeId: "only",
      nextNodeId: null,
      nodeStatuses: { only: "completed" },
      shared: { visited: ["only"] },
    });
    expect((await storage.getRun("w", engine.runId)).status).toBe("completed");

    await expect(engine.step()).resolves.toBe(false);
    await expect(engine.run()).resolves.toBe("completed");
    expect(await journal(storage, engine)).toEqual(records);
  });

  it("let run() go through every node and resolve to the final status", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [visit("a"), visit("b"), visit("c")],
      edges: [
        { from: "a", to: "b" },
        { from: "b", to: "c" },
      ],
      storage,
    });

    await expect(engine.run()).resolves.toBe("completed");

    const records = await journal(storage, engine);
    expect(
      records.map((r) => [r.step, r.parent, r.status, r.previousNodeId, r.nextNodeId]),
    ).toEqual([
      [0, null, "running", null, "a"],
      [1, 0, "running", "a", "b"],
      [2, 1, "running", "b", "c"],
      [3, 2, "completed", "c", null],
    ]);
    expect(records[3]?.nodeStatuses).toEqual({ a: "completed", b: "completed", c: "completed" });
    expect(records[3]?.shared).toEqual({ visited: ["a", "b", "c"] });
  });
});
