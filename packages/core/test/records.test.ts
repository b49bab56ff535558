// The record builders: step 0 of a run, the record a step appends for each way a node
// ends, a fork's first record, and how an error is kept in the journal.
import { describe, expect, it } from "vitest";
import { JOURNAL_FORMAT_VERSION, type StepRecord } from "../src/index.js";
import {
  errorFromRecord,
  firstRecord,
  forkRecord,
  nextRecord,
  type StepTaken,
  toRecordedError,
} from "../src/records.js";

const first = firstRecord({
  workflowId: "w",
  runId: "r",
  createdAt: "2026-01-01T00:00:00.000Z",
  shared: { n: 0 },
  start: "a",
});

/** Step 1 of run "r": node "b" of type "B", given one answer. */
const taken: StepTaken = {
  workflowId: "w",
  runId: "r",
  step: 1,
  createdAt: "2026-01-01T00:00:01.000Z",
  nodeId: "b",
  nodeType: "B",
  inputs: { b: "yes" },
};

describe("firstRecord", () => {
  it("is step 0: running, no parent, no previous node, the start node next, nothing run", () => {
    expect(first).toEqual({
      formatVersion: JOURNAL_FORMAT_VERSION,
      workflowId: "w",
      runId: "r",
      step: 0,
      parent: null,
      createdAt: "2026-01-01T00:00:00.000Z",
      status: "running",
      nodeStatuses: {},
      nodeTypes: {},
      shared: { n: 0 },
      previousNodeId: null,
      nextNodeId: "a",
      awaitingInput: null,
      inputs: {},
      error: null,
    } satisfies StepRecord);
  });
});

describe("nextRecord", () => {
  it("of a completed node keeps its state, marks it completed and names the next node", () => {
    const record = nextRecord(first, taken, { kind: "completed", shared: { n: 1 }, next: "c" });
    expect(record).toEqual({
      ...first,
      step: 1,
      parent: 0,
      createdAt: taken.createdAt,
      status: "running",
      nodeStatuses: { b: "completed" },
      nodeTypes: { b: "B" },
      shared: { n: 1 },
      previousNodeId: "b",
      nextNodeId: "c",
      inputs: { b: "yes" },
    });
  });

  it("of a completed node with no next node completes the run", () => {
    const record = nextRecord(first, taken, { kind: "completed", shared: { n: 1 }, next: null });
    expect(record.status).toBe("completed");
    expect(record.nextNodeId).toBeNull();
  });

  it("of a waiting node is waiting_for_input with the question, the same node next", () => {
    const request = { nodeId: "b", requestId: "b", prompt: "ok?", options: null };
    const record = nextRecord(first, taken, { kind: "waiting", shared: { n: 0 }, request });
    expect(record).toMatchObject({
      status: "waiting_for_input",
      nodeStatuses: { b: "waiting" },
      shared: { n: 0 },
      nextNodeId: "b",
      awaitingInput: request,
      error: null,
    });
  });

  it("of a failed node is failed with the error, the same node next to retry", () => {
    const error = toRecordedError(new Error("boom"), "b");
    const record = nextRecord(first, taken, { kind: "failed", shared: { n: 0 }, error });
    expect(record).toMatchObject({
      status: "failed",
      nodeStatuses: { b: "failed" },
      nextNodeId: "b",
      awaitingInput: null,
      error,
    });
  });

  it("continues from its base's step and node maps, leaving the base unchanged", () => {
    const base: StepRecord = {
      ...first,
      step: 4,
      parent: 3,
      nodeStatuses: { a: "completed", b: "failed" },
      nodeTypes: { a: "A", b: "B" },
    };
    const copy = structuredClone(base);
    const record = nextRecord(
      base,
      { ...taken, step: 7 },
      { kind: "completed", shared: {}, next: null },
    );
    expect(record.step).toBe(7);
    expect(record.parent).toBe(4);
    expect(Object.entries(record.nodeStatuses)).toEqual([
      ["a", "completed"],
      ["b", "completed"],
    ]);
    expect(base).toEqual(copy);
  });

  it("belongs to the run appended to, which a fork resumed before its fork point is not the base's", () => {
    const record = nextRecord(
      first,
      { ...taken, runId: "fork" },
      { kind: "completed", shared: {}, next: null },
    );
    expect(record.runId).toBe("fork");
    expect(record.parent).toBe(0);
  });
});

describe("forkRecord", () => {
  it("is the source's record under the fork's run id and time", () => {
    const source = nextRecord(first, taken, { kind: "completed", shared: { n: 1 }, next: "c" });
    expect(forkRecord(source, "fork", "2026-01-02T00:00:00.000Z")).toEqual({
      ...source,
      runId: "fork",
      createdAt: "2026-01-02T00:00:00.000Z",
    });
  });
});

describe("toRecordedError", () => {
  it("keeps an Error's name, message, string code and stack, with the node id", () => {
    const error = Object.assign(new TypeError("bad"), { code: "E_BAD" });
    expect(toRecordedError(error, "b")).toEqual({
      name: "TypeError",
      message: "bad",
      code: "E_BAD",
      nodeId: "b",
      stack: error.stack,
    });
  });

  it("turns a thrown non-Error into an Error's message, and a non-string code into null", () => {
    expect(toRecordedError("nope", "b")).toMatchObject({
      name: "Error",
      message: "nope",
      code: null,
    });
    const numbered = Object.assign(new Error("x"), { code: 7 });
    expect(toRecordedError(numbered, "b").code).toBeNull();
  });

  it("gives back an Error with the same name, message and code through errorFromRecord", () => {
    const recorded = toRecordedError(Object.assign(new RangeError("far"), { code: "E_FAR" }), "b");
    const error = errorFromRecord(recorded);
    expect(error).toBeInstanceOf(Error);
    expect([error.name, error.message, (error as { code?: unknown }).code]).toEqual([
      "RangeError",
      "far",
      "E_FAR",
    ]);
  });
});
