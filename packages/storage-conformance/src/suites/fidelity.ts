/**
 * Invariant 8: what is read back equals what was written: unicode, 5 MB of
 * state, deep nesting, awkward keys and numbers, directly and through the
 * engine after a restart. Non-JSON values fail the step, naming the path.
 */
import { MAX_JSON_DEPTH, Node, type SharedState, WorkflowEngine } from "@wf/core";
import { describe, expect, it } from "vitest";
import { type Harness, sampleStep, seedRun } from "../harness.js";

function deeplyNested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = { bottom: true };
  for (let i = 0; i < depth; i++) value = { [`level${i}`]: value, list: [i] };
  return value;
}

function awkwardState(): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify({
      unicode: "héllo wörld — 日本語 — 🎉👩‍👩‍👧 — עברית — \u0000nul \u2028\u2029 \ud83d\ude00",
      "key with spaces": 1,
      "": "empty key",
      "a.b/c\\d": "separators",
      constructor: "not a constructor",
      numbers: [0, -1, 0.1, 1e-7, 2 ** 53 - 1, -(2 ** 53) + 1, 1.7976931348623157e308, 5e-324],
      nested: { arrays: [[], [null], [[1, [2, [3]]]]], empty: {} },
      booleans: [true, false, null],
    }).replace('"constructor"', '"__proto__":{"polluted":true},"constructor"'),
  ) as Record<string, unknown>;
}

class Store extends Node {
  override cleanup(shared: SharedState): void {
    shared.after = awkwardState();
  }
}

class PutsBigInt extends Node {
  override cleanup(shared: SharedState): void {
    shared.payload = { ok: 1, total: 10n };
  }
}

export function fidelitySuite(h: Harness): void {
  describe("fidelity (invariant 8)", () => {
    it("unicode, awkward keys (including __proto__) and numbers read back equal", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("awkward");
      const runId = await seedRun(store, workflowId, 0);
      const shared = awkwardState();
      expect(Object.hasOwn(shared, "__proto__")).toBe(true);
      await store.appendStep(sampleStep(workflowId, runId, 1, { shared: shared as never }));
      const read = (await store.getStep(workflowId, runId, 1)).shared as Record<string, unknown>;
      expect(read).toEqual(shared);
      expect(Object.hasOwn(read, "__proto__")).toBe(true);
      expect(JSON.stringify(read)).toBe(JSON.stringify(shared));
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it("5 MB of state reads back equal, and the step after it is small again", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("large");
      const runId = await seedRun(store, workflowId, 0);
      const large = {
        text: "λ".repeat(2_200_000),
        rows: Array.from({ length: 20_000 }, (_, i) => ({ i, name: `row ${i}`, tags: ["a", "b"] })),
      };
      expect(JSON.stringify(large).length).toBeGreaterThan(2_000_000);
      expect(Buffer.byteLength(JSON.stringify(large))).toBeGreaterThan(5_000_000);
      await store.appendStep(sampleStep(workflowId, runId, 1, { shared: large }));
      await store.appendStep(sampleStep(workflowId, runId, 2, { shared: { small: true } }));
      expect((await store.getStep(workflowId, runId, 1)).shared).toEqual(large);
      expect((await store.getLatestStep(workflowId, runId)).shared).toEqual({ small: true });
    });

    it("state nested MAX_JSON_DEPTH (1,000) levels deep, the most the engine journals, reads back equal", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("deep");
      const runId = await seedRun(store, workflowId, 0);
      const deep = deeplyNested(MAX_JSON_DEPTH - 1);
      await store.appendStep(sampleStep(workflowId, runId, 1, { shared: deep as never }));
      expect((await store.getStep(workflowId, runId, 1)).shared).toEqual(deep);
    });

    it("state written by a node reads back equal in an engine after a restart", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("engine-fidelity");
      const definition = { workflowId, nodes: [new Store({ id: "store" })] };
      const engine = await WorkflowEngine.create({
        ...definition,
        storage: store,
        initialState: { before: 1 },
      });
      expect(await engine.run()).toBe("completed");
      const restarted = await h.restart(store);
      const reopened = await WorkflowEngine.create({
        ...definition,
        storage: restarted,
        runId: engine.runId,
      });
      expect(reopened.shared).toEqual({ before: 1, after: awkwardState() });
      expect(Object.hasOwn(reopened.shared.after as object, "__proto__")).toBe(true);
    });

    it("a node that puts a non-JSON value in shared state fails the step, naming the path, and stores the state from before", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("not-json");
      const engine = await WorkflowEngine.create({
        workflowId,
        nodes: [new PutsBigInt({ id: "bad" })],
        storage: store,
        initialState: { kept: true },
      });
      expect(await engine.run()).toBe("failed");
      expect(engine.error).toMatchObject({
        code: "NOT_SERIALIZABLE",
        path: "shared.payload.total",
      });
      const last = await store.getLatestStep(workflowId, engine.runId);
      expect(last.status).toBe("failed");
      expect(last.error).toMatchObject({ code: "NOT_SERIALIZABLE", nodeId: "bad" });
      expect(last.error?.message).toContain("shared.payload.total");
      expect(last.shared).toEqual({ kept: true });
      expect(engine.shared).toEqual({ kept: true });
    });
  });
}
