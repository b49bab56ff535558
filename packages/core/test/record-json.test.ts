// stepRecordJson: adapters get the text the engine already made for its records, equal to
// JSON.stringify of the record when appended; other records are serialised as they are.
import { describe, expect, it } from "vitest";
import { stepRecordJson } from "../src/adapter-kit.js";
import { MemoryStorage, type StepRecord, WorkflowEngine } from "../src/index.js";
import { journal, Script, visit } from "./fixtures.js";

describe("stepRecordJson", () => {
  it("gives the engine's text for every record it appends, equal to the record's JSON", async () => {
    const storage = new MemoryStorage();
    const seen: { text: string; json: string }[] = [];
    const append = storage.appendStep.bind(storage);
    storage.appendStep = async (record: StepRecord) => {
      seen.push({ text: stepRecordJson(record), json: JSON.stringify(record) });
      return append(record);
    };
    const failing = new Script({
      id: "b",
      execute: () => {
        throw new Error("boom");
      },
    });
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [visit("a"), failing],
      edges: [{ from: "a", to: "b" }],
      storage,
      initialState: { payload: "é".repeat(100) },
    });
    await engine.run();
    await engine.cancel("done");
    expect(seen).toHaveLength(3);
    for (const { text, json } of seen) expect(text).toBe(json);
    // What the store holds reads back as the records the engine stood on.
    const stored = await journal(storage, engine);
    expect(stored.map((r) => r.status)).toEqual(["running", "running", "failed", "cancelled"]);
    expect(stored[2]?.shared).toEqual({ payload: "é".repeat(100), visited: ["a"] });
  });

  it("serialises a record the engine did not make as it is at the call", () => {
    const record = { step: 1, shared: { n: 1 } } as unknown as StepRecord;
    expect(stepRecordJson(record)).toBe('{"step":1,"shared":{"n":1}}');
    (record.shared as { n: number }).n = 2;
    expect(stepRecordJson(record)).toBe('{"step":1,"shared":{"n":2}}');
  });
});
