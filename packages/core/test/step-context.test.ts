// What a node is told about its step (ids, step, attempt, signal, idempotency key), giving a step
// up through step()'s signal, events, and creating a run under a given id.
import { describe, expect, it } from "vitest";
import {
  type Edge,
  hasErrorCode,
  MemoryStorage,
  type StepContext,
  WorkflowEngine,
  type WorkflowEvent,
} from "../src/index.js";
import { checkStepRecord } from "../src/record-check.js";
import { journal, Script, visit } from "./fixtures.js";

describe("step context", () => {
  it("every node method gets the same ids, step and key; attempt counts in-process retries", async () => {
    const storage = new MemoryStorage();
    const seen: { method: string; context: StepContext }[] = [];
    let calls = 0;
    const node = new Script({
      id: "n",
      maxRetries: 2,
      prepare: (_shared, _ask, context) => {
        seen.push({ method: "prepare", context });
      },
      execute: (_prepared, context) => {
        seen.push({ method: "execute", context });
        calls += 1;
        if (calls < 3) throw new Error("flaky");
      },
      cleanup: (_shared, _prepared, _result, context) => {
        seen.push({ method: "cleanup", context });
      },
    });
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [visit("a"), node],
      edges: [{ from: "a", to: "n" }],
      storage,
    });
    await engine.step();
    await engine.step(undefined, { attempt: 4 });
    expect(seen.map((s) => [s.method, s.context.attempt])).toEqual([
      ["prepare", 4],
      ["execute", 4],
      ["execute", 5],
      ["execute", 6],
      ["cleanup", 6],
    ]);
    for (const { context } of seen) {
      expect(context).toMatchObject({
        workflowId: "w",
        runId: engine.runId,
        step: 2,
        idempotencyKey: `w/${engine.runId}/2`,
      });
      expect(context.signal.aborted).toBe(false);
    }
    expect((await journal(storage, engine)).at(-1)?.step).toBe(2);
  });

  it("a failed node's retries keep its first attempt's key, in this engine and in a reopened one", async () => {
    const storage = new MemoryStorage();
    const keys: [string, number, string][] = [];
    let calls = 0;
    const flaky = new Script({
      id: "flaky",
      execute: (_prepared, context) => {
        keys.push(["flaky", context.step, context.idempotencyKey]);
        calls += 1;
        if (calls <= 3) throw new Error(`failure ${calls}`);
      },
    });
    const after = new Script({
      id: "after",
      execute: (_prepared, context) => {
        keys.push(["after", context.step, context.idempotencyKey]);
      },
    });
    const definition = {
      workflowId: "w",
      nodes: [visit("a"), flaky, after],
      edges: [
        { from: "a", to: "flaky" },
        { from: "flaky", to: "after" },
      ],
      storage,
    };
    const engine = await WorkflowEngine.create(definition);
    await engine.step(); // a
    await engine.step(); // flaky fails: step 2
    await engine.step(); // fails again: step 3
    // A worker opens a fresh engine for each retry: the key comes from the journal.
    const reopened = await WorkflowEngine.create({ ...definition, runId: engine.runId });
    await reopened.step(); // fails: step 4
    await reopened.step(); // succeeds: step 5
    await reopened.step(); // after: step 6
    const runId = engine.runId;
    expect(keys).toEqual([
      ["flaky", 2, `w/${runId}/2`],
      ["flaky", 3, `w/${runId}/2`],
      ["flaky", 4, `w/${runId}/2`],
      ["flaky", 5, `w/${runId}/2`],
      ["after", 6, `w/${runId}/6`],
    ]);
    // Run again from before the failures: a new timeline, a new key.
    const redo = await WorkflowEngine.create({ ...definition, runId, resumeFrom: 1 });
    await redo.step();
    expect(keys.at(-1)).toEqual(["flaky", 7, `w/${runId}/7`]);
  });

  it("a failure journals the retry time the caller scheduled, and nothing when none was", async () => {
    const storage = new MemoryStorage();
    const failing = new Script({
      id: "n",
      execute: () => {
        throw new Error("down");
      },
    });
    const engine = await WorkflowEngine.create({ workflowId: "w", nodes: [failing], storage });
    const at = new Date("2026-11-29T04:00:00.000Z");
    await engine.step(undefined, { retryAt: () => at });
    await engine.step(undefined, { retryAt: () => null });
    const [, scheduled, last] = await journal(storage, engine);
    expect(scheduled?.error).toMatchObject({
      message: "down",
      retryAt: "2026-11-29T04:00:00.000Z",
    });
    expect(last?.error).not.toHaveProperty("retryAt");
    expect(() => checkStepRecord(scheduled, "here")).not.toThrow();
    const wrong = {
      ...last,
      status: "cancelled",
      error: { ...scheduled?.error, code: "CANCELLED" },
    };
    expect(() => checkStepRecord(wrong, "here")).toThrow(
      /"error.retryAt" is set on a cancelled record/,
    );
    const notATime = { ...scheduled, error: { ...scheduled?.error, retryAt: "soon" } };
    expect(() => checkStepRecord(notATime, "here")).toThrow(/"retryAt" is not a time/);
  });

  it("the fallback gets the context of the last attempt", async () => {
    const storage = new MemoryStorage();
    let fallbackContext: StepContext | undefined;
    const node = new Script({
      id: "n",
      maxRetries: 1,
      execute: () => {
        throw new Error("always");
      },
      fallback: (_prepared, _error, context) => {
        fallbackContext = context;
        return "fallback";
      },
    });
    const engine = await WorkflowEngine.create({ workflowId: "w", nodes: [node], storage });
    expect(await engine.run()).toBe("completed");
    expect(fallbackContext).toMatchObject({ step: 1, attempt: 1 });
  });

  it("rejects a negative or fractional attempt", async () => {
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [visit("a")],
      storage: new MemoryStorage(),
    });
    await expect(engine.step(undefined, { attempt: -1 })).rejects.toThrow(RangeError);
    await expect(engine.step(undefined, { attempt: 1.5 })).rejects.toThrow(RangeError);
    expect(engine.headStep).toBe(0);
  });
});

describe("step() given up through its signal", () => {
  it("fires the node's signal, journals nothing, rejects STEP_ABORTED and runs the node again next time", async () => {
    const storage = new MemoryStorage();
    let started: () => void = () => undefined;
    let runs = 0;
    const node = new Script({
      id: "slow",
      execute: (_prepared, context) => {
        runs += 1;
        if (runs > 1) return "second";
        return new Promise((_resolve, reject) => {
          context.signal.addEventListener("abort", () => reject(context.signal.reason));
          started();
        });
      },
      cleanup: (shared, _prepared, result) => {
        shared.result = result;
      },
    });
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [node],
      storage,
      initialState: { before: true },
    });
    const controller = new AbortController();
    const isStarted = new Promise<void>((resolve) => {
      started = resolve;
    });
    const stepping = engine.step(undefined, { signal: controller.signal });
    await isStarted;
    controller.abort(new Error("worker closing"));
    const error = await stepping.catch((e: unknown) => e);
    expect(hasErrorCode(error, "STEP_ABORTED")).toBe(true);
    expect((error as Error).message).toContain("worker closing");
    expect(engine.headStep).toBe(0);
    expect(engine.shared).toEqual({ before: true });
    expect((await journal(storage, engine)).length).toBe(1);

    await expect(engine.step()).resolves.toBe(false);
    expect(engine.status).toBe("completed");
    expect((await journal(storage, engine)).map((r) => r.shared)).toEqual([
      { before: true },
      { before: true, result: "second" },
    ]);
  });

  it("an already aborted signal runs nothing", async () => {
    const storage = new MemoryStorage();
    let ran = false;
    const node = new Script({
      id: "n",
      execute: () => {
        ran = true;
      },
    });
    const engine = await WorkflowEngine.create({ workflowId: "w", nodes: [node], storage });
    const error = await engine
      .step(undefined, { signal: AbortSignal.abort("gone") })
      .catch((e: unknown) => e);
    expect(hasErrorCode(error, "STEP_ABORTED")).toBe(true);
    expect(engine.headStep).toBe(0);
    // prepare may have started, but no outcome is journalled.
    expect((await journal(storage, engine)).length).toBe(1);
    void ran;
  });
});

describe("events", () => {
  it("reports started, each step, waiting, completed, failed and cancelled after the write", async () => {
    const storage = new MemoryStorage();
    const events: WorkflowEvent[] = [];
    const onEvent = (event: WorkflowEvent) => {
      events.push(event);
    };
    const ask = new Script({
      id: "ask",
      prepare: async (shared, requestInput) => {
        shared.answer = await requestInput("ok?");
      },
    });
    const edges: Edge[] = [{ from: "a", to: "ask" }];
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [visit("a"), ask],
      edges,
      storage,
      onEvent,
    });
    await engine.run();
    await engine.run({ ask: "yes" });
    const runId = engine.runId;
    expect(events.map((e) => [e.type, e.step])).toEqual([
      ["runStarted", 0],
      ["stepAppended", 1],
      ["stepAppended", 2],
      ["waiting", 2],
      ["stepAppended", 3],
      ["completed", 3],
    ]);
    expect(events[0]).toEqual({
      type: "runStarted",
      workflowId: "w",
      runId,
      step: 0,
      forkedFrom: null,
    });
    expect(events[3]).toMatchObject({ request: { requestId: "ask", prompt: "ok?" } });

    events.length = 0;
    const fork = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [visit("a"), ask],
      edges,
      storage,
      runId,
      resumeFrom: 1,
      fork: true,
      onEvent,
    });
    await fork.cancel("no");
    expect(events).toEqual([
      {
        type: "runStarted",
        workflowId: "w",
        runId: fork.runId,
        step: 1,
        forkedFrom: { runId, step: 1 },
      },
      { type: "cancelled", workflowId: "w", runId: fork.runId, step: 2, reason: "no" },
    ]);

    events.length = 0;
    const failing = new Script({
      id: "a",
      execute: () => {
        throw new Error("boom");
      },
    });
    const failed = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [failing],
      storage,
      onEvent,
    });
    await failed.run();
    expect(events.map((e) => e.type)).toEqual(["runStarted", "stepAppended", "failed"]);
    const last = events[2] as Extract<WorkflowEvent, { type: "failed" }>;
    expect(last.error.message).toBe("boom");
  });

  it("a listener that throws fails nothing", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [visit("a")],
      storage,
      onEvent: () => {
        throw new Error("listener bug");
      },
    });
    await expect(engine.run()).resolves.toBe("completed");
    expect((await journal(storage, engine)).length).toBe(2);
  });
});

describe("newRunId", () => {
  it("creates a run or a fork under the given id; RUN_EXISTS when taken", async () => {
    const storage = new MemoryStorage();
    const nodes = [visit("a")];
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes,
      storage,
      newRunId: "order-42",
    });
    expect(engine.runId).toBe("order-42");
    expect((await storage.getRun("w", "order-42")).headStep).toBe(0);

    const again = await WorkflowEngine.create({
      workflowId: "w",
      nodes,
      storage,
      newRunId: "order-42",
    }).catch((e: unknown) => e);
    expect(hasErrorCode(again, "RUN_EXISTS")).toBe(true);

    const fork = await WorkflowEngine.create({
      workflowId: "w",
      nodes,
      storage,
      runId: "order-42",
      fork: true,
      newRunId: "order-42-b",
    });
    expect(fork.runId).toBe("order-42-b");
    expect(fork.forkedFrom).toEqual({ runId: "order-42", step: 0 });
  });

  it("refuses a hostile id, and newRunId on a resume", async () => {
    const storage = new MemoryStorage();
    const nodes = [visit("a")];
    const hostile = await WorkflowEngine.create({
      workflowId: "w",
      nodes,
      storage,
      newRunId: "../x",
    }).catch((e: unknown) => e);
    expect(hasErrorCode(hostile, "INVALID_ID")).toBe(true);
    const engine = await WorkflowEngine.create({ workflowId: "w", nodes, storage });
    await expect(
      WorkflowEngine.create({
        workflowId: "w",
        nodes,
        storage,
        runId: engine.runId,
        newRunId: "x",
      }),
    ).rejects.toThrow(TypeError);
    expect((await storage.listRuns("w")).items.length).toBe(1);
  });
});
