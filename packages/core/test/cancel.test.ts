// Cancelling a run: the cancel record, a node's signal, cancelRun from anywhere, and what a
// cancelled run still allows (fork, resume from an earlier step).
import { describe, expect, it } from "vitest";
import {
  cancelRun,
  type Edge,
  hasErrorCode,
  MemoryStorage,
  type StepContext,
  WorkflowEngine,
} from "../src/index.js";
import { checkStepRecord } from "../src/record-check.js";
import { journal, Script, visit } from "./fixtures.js";

const edges: Edge[] = [
  { from: "a", to: "slow" },
  { from: "slow", to: "b" },
];

/** A node that waits inside execute until its signal fires, reporting when it started and what it saw. */
function blockingNode() {
  const seen: { started: () => void; context: StepContext | null; aborted: boolean } = {
    started: () => undefined,
    context: null,
    aborted: false,
  };
  const started = new Promise<void>((resolve) => {
    seen.started = resolve;
  });
  const node = new Script({
    id: "slow",
    execute: (_prepared, context) =>
      new Promise((resolve) => {
        seen.context = context;
        context.signal.addEventListener("abort", () => {
          seen.aborted = true;
          resolve("too late");
        });
        seen.started();
      }),
    cleanup: (shared) => {
      shared.slowDone = true;
    },
  });
  return { node, started, seen };
}

describe("cancel", () => {
  it("cancel() between steps appends a cancelled record with the reason, and step() then does nothing", async () => {
    const storage = new MemoryStorage();
    const nodes = [visit("a"), visit("slow"), visit("b")];
    const engine = await WorkflowEngine.create({ workflowId: "w", nodes, edges, storage });
    await engine.step();
    await expect(engine.cancel("customer withdrew")).resolves.toBe(true);
    expect(engine.status).toBe("cancelled");
    expect(engine.nextNodeId).toBeNull();
    await expect(engine.step()).resolves.toBe(false);
    await expect(engine.cancel()).resolves.toBe(false);

    const stored = await journal(storage, engine);
    expect(stored.map((r) => r.status)).toEqual(["running", "running", "cancelled"]);
    const last = checkStepRecord(stored[2], "test");
    expect(last).toMatchObject({
      step: 2,
      parent: 1,
      status: "cancelled",
      previousNodeId: null,
      nextNodeId: "slow",
      awaitingInput: null,
      shared: { visited: ["a"] },
      error: { name: "RunCancelled", message: "customer withdrew", code: "CANCELLED" },
    });
    const run = await storage.getRun("w", engine.runId);
    expect(run).toMatchObject({ status: "cancelled", headStep: 2 });
    const listed = await storage.listRuns("w", { status: "cancelled" });
    expect(listed.items.map((r) => r.runId)).toEqual([engine.runId]);
  });

  it("cancel() during a long node fires its signal and journals the cancel instead of the node's outcome", async () => {
    const storage = new MemoryStorage();
    const { node, started, seen } = blockingNode();
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [visit("a"), node, visit("b")],
      edges,
      storage,
    });
    await engine.step();
    const stepping = engine.step();
    await started;
    const cancelling = engine.cancel("stop");
    await expect(stepping).resolves.toBe(false);
    await expect(cancelling).resolves.toBe(true);
    expect(seen.aborted).toBe(true);
    expect(seen.context?.signal.aborted).toBe(true);
    expect(engine.status).toBe("cancelled");
    expect(engine.shared).toEqual({ visited: ["a"] });
    const stored = await journal(storage, engine);
    expect(stored.map((r) => r.status)).toEqual(["running", "running", "cancelled"]);
    expect(stored[2]?.shared).toEqual({ visited: ["a"] });
  });

  it("a node that ignores its signal does not hold the cancel", async () => {
    const storage = new MemoryStorage();
    let release: () => void = () => undefined;
    let started: () => void = () => undefined;
    const isStarted = new Promise<void>((resolve) => {
      started = resolve;
    });
    const deaf = new Script({
      id: "slow",
      execute: () =>
        new Promise<void>((resolve) => {
          release = resolve;
          started();
        }),
      cleanup: (shared) => {
        shared.late = true;
      },
    });
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [visit("a"), deaf, visit("b")],
      edges,
      storage,
    });
    await engine.step();
    const stepping = engine.step();
    await isStarted;
    await expect(engine.cancel()).resolves.toBe(true);
    await expect(stepping).resolves.toBe(false);
    release();
    // The node finishing later changes nothing stored or live.
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(engine.shared).toEqual({ visited: ["a"] });
    const stored = await journal(storage, engine);
    expect(stored.map((r) => r.status)).toEqual(["running", "running", "cancelled"]);
  });

  it("cancels waiting and failed runs, and refuses completed ones without writing", async () => {
    const storage = new MemoryStorage();
    const ask = new Script({
      id: "a",
      prepare: async (_shared, requestInput) => requestInput("ok?"),
    });
    const waiting = await WorkflowEngine.create({ workflowId: "w", nodes: [ask], storage });
    expect(await waiting.run()).toBe("waiting_for_input");
    await expect(waiting.cancel()).resolves.toBe(true);
    expect((await storage.getRun("w", waiting.runId)).status).toBe("cancelled");

    const failing = new Script({
      id: "a",
      execute: () => {
        throw new Error("boom");
      },
    });
    const failed = await WorkflowEngine.create({ workflowId: "w", nodes: [failing], storage });
    expect(await failed.run()).toBe("failed");
    await expect(failed.cancel()).resolves.toBe(true);
    expect(failed.status).toBe("cancelled");

    const done = await WorkflowEngine.create({ workflowId: "w", nodes: [visit("a")], storage });
    expect(await done.run()).toBe("completed");
    await expect(done.cancel()).resolves.toBe(false);
    expect((await journal(storage, done)).map((r) => r.status)).toEqual(["running", "completed"]);
  });

  it("a reopened cancelled run stays cancelled; it can be forked or resumed from an earlier step", async () => {
    const storage = new MemoryStorage();
    const nodes = [visit("a"), visit("slow"), visit("b")];
    const engine = await WorkflowEngine.create({ workflowId: "w", nodes, edges, storage });
    await engine.step();
    await engine.cancel();

    const reopened = await WorkflowEngine.create({
      workflowId: "w",
      nodes,
      edges,
      storage,
      runId: engine.runId,
    });
    expect(reopened.status).toBe("cancelled");
    await expect(reopened.run()).resolves.toBe("cancelled");
    expect(reopened.headStep).toBe(2);

    // Forking the cancel step itself would give a run cancelled from its start: refused, naming step 1.
    const atCancel = await WorkflowEngine.create({
      workflowId: "w",
      nodes,
      edges,
      storage,
      runId: engine.runId,
      fork: true,
    }).catch((e: unknown) => e);
    expect(hasErrorCode(atCancel, "FORK_OF_CANCEL_STEP")).toBe(true);
    expect((atCancel as Error).message).toContain("Fork from step 1, the step before the cancel.");
    expect((await storage.listRuns("w")).items).toHaveLength(1);

    const fork = await WorkflowEngine.create({
      workflowId: "w",
      nodes,
      edges,
      storage,
      runId: engine.runId,
      resumeFrom: 1,
      fork: true,
    });
    await expect(fork.run()).resolves.toBe("completed");
    expect(fork.shared).toEqual({ visited: ["a", "slow", "b"] });

    const resumed = await WorkflowEngine.create({
      workflowId: "w",
      nodes,
      edges,
      storage,
      runId: engine.runId,
      resumeFrom: 1,
    });
    await expect(resumed.run()).resolves.toBe("completed");
    const stored = await journal(storage, resumed);
    expect(stored.map((r) => [r.step, r.parent, r.status])).toEqual([
      [0, null, "running"],
      [1, 0, "running"],
      [2, 1, "cancelled"],
      [3, 1, "running"],
      [4, 3, "completed"],
    ]);
  });

  it("cancelRun cancels without a definition, and a stale engine then gets STEP_CONFLICT", async () => {
    const storage = new MemoryStorage();
    const nodes = [visit("a"), visit("slow"), visit("b")];
    const engine = await WorkflowEngine.create({ workflowId: "w", nodes, edges, storage });
    await engine.step();
    await expect(cancelRun(storage, "w", engine.runId, { reason: "ops" })).resolves.toBe(true);
    await expect(cancelRun(storage, "w", engine.runId)).resolves.toBe(false);
    const error = await engine.step().catch((e: unknown) => e);
    expect(hasErrorCode(error, "STEP_CONFLICT")).toBe(true);
    const stored = await journal(storage, engine);
    expect(stored.map((r) => r.status)).toEqual(["running", "running", "cancelled"]);
    expect(stored[2]?.error?.message).toBe("ops");
  });

  it("cancelRun reads the head again when another writer appends first", async () => {
    const storage = new MemoryStorage();
    const nodes = [visit("a"), visit("slow"), visit("b")];
    const engine = await WorkflowEngine.create({ workflowId: "w", nodes, edges, storage });
    // The first cancel attempt loses to an append made between its read and its write.
    const original = storage.getLatestStep.bind(storage);
    let raced = false;
    storage.getLatestStep = async (workflowId, runId) => {
      const head = await original(workflowId, runId);
      if (!raced) {
        raced = true;
        await engine.step();
      }
      return head;
    };
    await expect(cancelRun(storage, "w", engine.runId)).resolves.toBe(true);
    const stored = await journal(storage, engine);
    expect(stored.map((r) => [r.step, r.parent, r.status])).toEqual([
      [0, null, "running"],
      [1, 0, "running"],
      [2, 1, "cancelled"],
    ]);
  });

  it("cancelRun names an unknown run and refuses hostile ids", async () => {
    const storage = new MemoryStorage();
    const missing = await cancelRun(storage, "w", "nope").catch((e: unknown) => e);
    expect(hasErrorCode(missing, "RUN_NOT_FOUND")).toBe(true);
    const hostile = await cancelRun(storage, "w", "__proto__").catch((e: unknown) => e);
    expect(hasErrorCode(hostile, "INVALID_ID")).toBe(true);
  });
});

describe("record checks of cancelled records", () => {
  it("a cancelled record needs its reason as error; a running one may not have an error", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({ workflowId: "w", nodes: [visit("a")], storage });
    await engine.cancel("why");
    const [first, cancelled] = await journal(storage, engine);
    expect(() => checkStepRecord(cancelled, "here")).not.toThrow();
    const noReason = { ...cancelled, error: null };
    expect(() => checkStepRecord(noReason, "here")).toThrow(
      /"status" is cancelled but "error" is null/,
    );
    const runningWithError = { ...first, error: cancelled?.error };
    expect(() => checkStepRecord(runningWithError, "here")).toThrow(
      /"status" is running but "error" is an object/,
    );
  });
});
