// Node retries: attempts, backoff delays, the fallback, and what a retried step journals.
import { afterEach, describe, expect, it, vi } from "vitest";
import { MemoryStorage, WorkflowEngine } from "../src/index.js";
import { journal, Script, visit } from "./fixtures.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("retries", () => {
  it("run execute 1 + maxRetries times before giving up", async () => {
    const storage = new MemoryStorage();
    let attempts = 0;
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [
        new Script({
          id: "flaky",
          maxRetries: 2,
          execute: () => {
            attempts += 1;
            throw new Error(`attempt ${attempts} failed`);
          },
        }),
      ],
      storage,
    });

    await expect(engine.run()).resolves.toBe("failed");

    expect(attempts).toBe(3);
    expect(engine.error?.message).toBe("attempt 3 failed");
  });

  it("stop retrying as soon as execute succeeds and pass its result to cleanup", async () => {
    const storage = new MemoryStorage();
    let attempts = 0;
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [
        new Script({
          id: "flaky",
          maxRetries: 5,
          prepare: () => "input",
          execute: (prepared) => {
            attempts += 1;
            if (attempts < 3) throw new Error("not yet");
            return `${prepared} on attempt ${attempts}`;
          },
          cleanup: (shared, _prepared, result) => {
            shared.result = result;
          },
        }),
      ],
      storage,
    });

    await expect(engine.run()).resolves.toBe("completed");

    expect(attempts).toBe(3);
    expect((await storage.getLatestStep("w", engine.runId)).shared).toEqual({
      result: "input on attempt 3",
    });
  });

  it("compute each retry delay from retryDelayMs, backoffFactor and maxRetryDelayMs", () => {
    const node = visit("n", { retryDelayMs: 100, backoffFactor: 3, maxRetryDelayMs: 1000 });

    expect([1, 2, 3, 4].map((retry) => node.retryDelay(retry))).toEqual([100, 300, 900, 1000]);
  });

  it("default to no delay, a backoff factor of 2 and a 30 second cap", () => {
    expect(visit("n").retryDelay(3)).toBe(0);
    const node = visit("n", { retryDelayMs: 1000 });
    expect([1, 2, 3, 10].map((retry) => node.retryDelay(retry))).toEqual([
      1000, 2000, 4000, 30_000,
    ]);
  });

  it("wait the computed delays between attempts", async () => {
    const storage = new MemoryStorage();
    const attemptTimes: number[] = [];
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [
        new Script({
          id: "flaky",
          maxRetries: 2,
          retryDelayMs: 100,
          backoffFactor: 3,
          execute: () => {
            attemptTimes.push(Date.now());
            if (attemptTimes.length < 3) throw new Error("not yet");
          },
        }),
      ],
      storage,
    });
    vi.useFakeTimers({ now: 0, toFake: ["setTimeout", "clearTimeout", "Date"] });

    const stepping = engine.step();
    await vi.runAllTimersAsync();

    await expect(stepping).resolves.toBe(false);
    expect(engine.status).toBe("completed");
    expect(attemptTimes).toEqual([0, 100, 400]);
  });

  it.each([
    { maxRetries: -1 },
    { maxRetries: 1.5 },
    { retryDelayMs: -1 },
    { backoffFactor: Number.NaN },
    { maxRetryDelayMs: Number.POSITIVE_INFINITY },
  ])("refuse the node option %o with a RangeError", (options) => {
    expect(() => visit("n", options)).toThrow(RangeError);
  });

  it("call execFallback with what prepare returned and the last error, and hand its result to cleanup", async () => {
    const storage = new MemoryStorage();
    const fallbackCalls: [unknown, unknown][] = [];
    let attempts = 0;
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [
        new Script({
          id: "fetch",
          maxRetries: 1,
          prepare: () => ({ url: "https://example.invalid" }),
          execute: () => {
            attempts += 1;
            throw new Error(`down ${attempts}`);
          },
          fallback: (prepared, error) => {
            fallbackCalls.push([prepared, error]);
            return "cached";
          },
          cleanup: (shared, _prepared, result) => {
            shared.page = result;
          },
        }),
      ],
      storage,
    });

    await expect(engine.run()).resolves.toBe("completed");

    expect(attempts).toBe(2);
    expect(fallbackCalls).toHaveLength(1);
    const [prepared, error] = fallbackCalls[0] ?? [];
    expect(prepared).toEqual({ url: "https://example.invalid" });
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe("down 2");
    const last = await storage.getLatestStep("w", engine.runId);
    expect(last).toMatchObject({
      status: "completed",
      shared: { page: "cached" },
      nodeStatuses: { fetch: "completed" },
      error: null,
    });
  });

  it("fail the run when the fallback throws, journalling the error over the state before the node", async () => {
    const storage = new MemoryStorage();
    const cause = Object.assign(new Error("fallback failed too"), { code: "E_UPSTREAM" });
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [
        visit("first"),
        new Script({
          id: "fetch",
          maxRetries: 1,
          execute: () => {
            throw new Error("down");
          },
          fallback: () => {
            throw cause;
          },
          cleanup: (shared) => {
            shared.fetched = true;
          },
        }),
      ],
      edges: [{ from: "first", to: "fetch" }],
      initialState: { count: 1 },
      storage,
    });

    await expect(engine.run()).resolves.toBe("failed");

    expect(engine.status).toBe("failed");
    expect(engine.error).toBe(cause);
    expect(engine.shared).toEqual({ count: 1, visited: ["first"] });
    const last = await storage.getLatestStep("w", engine.runId);
    expect(last).toMatchObject({
      step: 2,
      parent: 1,
      status: "failed",
      previousNodeId: "fetch",
      nodeStatuses: { first: "completed", fetch: "failed" },
      shared: { count: 1, visited: ["first"] },
      error: { name: "Error", message: "fallback failed too", code: "E_UPSTREAM", nodeId: "fetch" },
    });
    expect((await storage.getRun("w", engine.runId)).status).toBe("failed");
  });

  it("keep a change prepare made before throwing out of the journal and out of engine.shared", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [
        visit("first"),
        new Script({
          id: "sloppy",
          prepare: (shared) => {
            shared.half = "written";
            (shared.visited as string[]).push("sloppy");
            throw new TypeError("prepare broke");
          },
        }),
      ],
      edges: [{ from: "first", to: "sloppy" }],
      storage,
    });

    await expect(engine.run()).resolves.toBe("failed");

    expect(engine.error).toBeInstanceOf(TypeError);
    expect(engine.shared).toEqual({ visited: ["first"] });
    const records = await journal(storage, engine);
    expect(records.map((r) => r.shared)).toEqual([
      {},
      { visited: ["first"] },
      { visited: ["first"] },
    ]);
    expect(records[2]?.error).toMatchObject({
      name: "TypeError",
      message: "prepare broke",
      code: null,
      nodeId: "sloppy",
    });
    expect((await engine.history()).map((r) => r.shared)).toEqual(records.map((r) => r.shared));
  });
});
