// Options a worker refuses, and nodes whose class keeps #private fields
// running under the worker's retry wrapper.
import { MemoryStorage, Node, type StepContext } from "@wf/core";
import { describe, expect, it } from "vitest";
import { type RunQueue, Worker, WorkflowClient } from "../src/index.js";
import { withQueueRetries } from "../src/retry-nodes.js";

const queue: RunQueue = {
  enqueue: async () => {},
  consume: async () => ({ close: async () => {} }),
  jobState: async () => ({ state: "absent" }),
  close: async () => {},
};

class Private extends Node {
  #calls = 0;
  override execute(): number {
    this.#calls += 1;
    if (this.#calls < 2) throw new Error(`call ${this.#calls}`);
    return this.#calls;
  }
}

describe("worker options", () => {
  it("refuses a concurrency or stepsPerJob that is not a positive integer", () => {
    const storage = new MemoryStorage();
    expect(() => new Worker({ storage, queue, workflows: [], concurrency: 0 })).toThrow(RangeError);
    expect(() => new Worker({ storage, queue, workflows: [], stepsPerJob: 1.5 })).toThrow(
      /stepsPerJob must be a positive integer/,
    );
  });

  it("refuses a storage that is not a store, naming what it lacks", () => {
    const notAStore = { getRun: async () => null } as never;
    expect(() => new Worker({ storage: notAStore, queue, workflows: [] })).toThrow(
      /^Worker needs `storage`, a WorkflowStorage .*; this one has no createRun, appendStep, getStep/,
    );
    expect(() => new WorkflowClient({ storage: undefined as never, queue })).toThrow(
      /^WorkflowClient needs `storage`/,
    );
  });

  it("refuses two workflows with one id", () => {
    const storage = new MemoryStorage();
    const workflow = { workflowId: "w", nodes: [new Private()] };
    expect(() => new Worker({ storage, queue, workflows: [workflow, workflow] })).toThrow(
      /Two workflows/,
    );
  });

  it("a wrapped node keeps its #private fields, its type and no in-process retries, and schedules a retry", async () => {
    const node = new Private({ maxRetries: 2, retryDelayMs: 10 });
    const scheduled: [number, number][] = [];
    const wrapped = withQueueRetries(node, {
      attempt: 0,
      scheduledAt: null,
      schedule: async (retry, delayMs) => {
        scheduled.push([retry, delayMs]);
      },
    });
    expect(wrapped.type).toBe("Private");
    expect(wrapped.maxRetries).toBe(0);
    expect(wrapped).toBeInstanceOf(Node);
    const context: StepContext = {
      workflowId: "w",
      runId: "r",
      step: 1,
      attempt: 0,
      signal: new AbortController().signal,
      idempotencyKey: "w/r/1",
    };
    const error = await (async () => wrapped.execute(undefined, context))().catch(
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ message: "call 1" });
    await expect(wrapped.execFallback(undefined, error)).rejects.toBe(error);
    expect(scheduled).toEqual([[1, 10]]);
    expect(wrapped.execute(undefined, context)).toBe(2);
  });
});
