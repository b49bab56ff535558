// A step that cannot be journalled leaves the live state as the last record
// has it: never a node applied twice, whatever went wrong after it ran.
import { describe, expect, it } from "vitest";
import {
  MemoryStorage,
  type MemoryStorageData,
  type StepRecord,
  type StorageCapabilities,
  WorkflowEngine,
  type WorkflowStorage,
} from "../src/index.js";
import { MAX_JSON_DEPTH } from "../src/json-state.js";
import { Script, storedSteps } from "./fixtures.js";

/** A value nested `levels` deep. */
function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: true };
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
}

/** Adds one to `count`, and on its second visit also stores a value nested 5,000 levels deep. */
function counter(): Script {
  let visits = 0;
  return new Script({
    id: "count",
    cleanup: (shared) => {
      visits += 1;
      shared.count = ((shared.count as number | undefined) ?? 0) + 1;
      if (visits === 2) shared.deep = nested(5_000);
      else delete shared.deep;
    },
  });
}

describe("a step whose state cannot be journalled", () => {
  it("state nested 5,000 levels deep fails the step with NOT_SERIALIZABLE and is never applied twice", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "deep",
      nodes: [counter()],
      edges: [{ from: "count", to: "count", when: (s) => (s.count as number) < 4 }],
      storage,
    });

    await engine.step(); // count 1
    await engine.step(); // count 2 with deep state: fails the node
    expect(engine.status).toBe("failed");
    expect(engine.error).toMatchObject({ code: "NOT_SERIALIZABLE" });
    expect((engine.error as { path?: string }).path?.startsWith("shared.deep.a.a")).toBe(true);
    expect(engine.shared).toEqual({ count: 1 });
    await engine.run();

    const counts = (await storedSteps(storage, "deep", engine.runId)).map(
      (record) => (record.shared as { count?: number }).count ?? 0,
    );
    // The failed step keeps the state before it; the retry counts 2, then 3 and 4.
    expect(counts).toEqual([0, 1, 1, 2, 3, 4]);
    expect(engine.status).toBe("completed");
  });

  it(`state at exactly ${MAX_JSON_DEPTH} levels is journalled and read back`, async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "deep-ok",
      nodes: [
        new Script({
          id: "deepen",
          cleanup: (shared) => {
            shared.deep = nested(MAX_JSON_DEPTH - 1);
          },
        }),
      ],
      storage,
    });
    expect(await engine.run()).toBe("completed");
    const last = await storage.getLatestStep("deep-ok", engine.runId);
    expect(JSON.stringify(last.shared)).toBe(JSON.stringify({ deep: nested(MAX_JSON_DEPTH - 1) }));
  });

  it("create() with an initialState nested too deep is NOT_SERIALIZABLE and writes nothing", async () => {
    const storage = new MemoryStorage();
    const error = await WorkflowEngine.create({
      workflowId: "deep-initial",
      nodes: [counter()],
      initialState: { deep: nested(5_000) },
      storage,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "NOT_SERIALIZABLE" });
    expect((error as { path: string }).path.startsWith("initialState.deep.a")).toBe(true);
    expect((await storage.listWorkflows()).items).toEqual([]);
  });

  it("a storage error on append rejects step() with the live state restored; the next step applies the node once", async () => {
    const inner = new MemoryStorage();
    let failNext = false;
    const flaky: WorkflowStorage = {
      get capabilities(): StorageCapabilities {
        return inner.capabilities;
      },
      createRun: (run, first) => inner.createRun(run, first),
      appendStep: async (record: StepRecord) => {
        if (failNext) {
          failNext = false;
          throw Object.assign(new Error("connection reset"), { code: "STORAGE_UNAVAILABLE" });
        }
        return inner.appendStep(record);
      },
      getRun: (w, r) => inner.getRun(w, r),
      getStep: (w, r, s) => inner.getStep(w, r, s),
      getLatestStep: (w, r) => inner.getLatestStep(w, r),
      listSteps: (w, r, o) => inner.listSteps(w, r, o),
      listRuns: (w, o) => inner.listRuns(w, o),
      listWorkflows: (o) => inner.listWorkflows(o),
      deleteRun: (w, r) => inner.deleteRun(w, r),
      close: () => inner.close(),
    };
    const engine = await WorkflowEngine.create({
      workflowId: "flaky",
      nodes: [counter()],
      edges: [{ from: "count", to: "count", when: (s) => (s.count as number) < 3 }],
      storage: flaky,
    });
    await engine.step();
    failNext = true;
    await expect(engine.step()).rejects.toThrow("connection reset");
    expect(engine.shared).toEqual({ count: 1 });
  });

  it("a codec whose encode returns something other than an object fails the step with NOT_SERIALIZABLE", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "codec-string",
      nodes: [counter()],
      storage,
      codec: {
        encode: (shared) => (shared.count === 1 ? JSON.stringify(shared) : { ...shared }) as never,
        decode: (stored) => stored as Record<string, unknown>,
      },
    });
    expect(await engine.run()).toBe("failed");
    expect(engine.error).toMatchObject({ code: "NOT_SERIALIZABLE", path: "shared" });
    expect(engine.shared).toEqual({});
  });
});

describe("opening a run while another writer appends", () => {
  it("stands on the newer head when an append lands between reading the metadata and the head", async () => {
    const data: MemoryStorageData = new Map();
    const definition = {
      workflowId: "moving-head",
      nodes: [counter()],
      edges: [{ from: "count", to: "count", when: () => true }],
    };
    const first = await WorkflowEngine.create({
      ...definition,
      storage: new MemoryStorage({ data }),
    });
    await first.step();
    /** A second process's store, where another writer appends right after getRun answers. */
    class Racing extends MemoryStorage {
      interleave = true;
      override async getRun(workflowId: string, runId: string) {
        const run = await super.getRun(workflowId, runId);
        if (this.interleave) {
          this.interleave = false;
          await first.step(); // the head moves to 2
        }
        return run;
      }
    }
    const racing = new Racing({ data });
    const opened = await WorkflowEngine.create({
      ...definition,
      storage: racing,
      runId: first.runId,
    });
    expect(opened.currentStep).toBe(2);
    expect(opened.headStep).toBe(2);
    expect(await opened.step()).toBe(true);
    expect((await racing.getRun("moving-head", first.runId)).headStep).toBe(3);
  });
});
