/**
 * Invariant 6: before resume or fork, every node that completed, failed or
 * waits at the step resumed from must exist with the same type; otherwise
 * IncompatibleStateError ("Cannot resume: …" naming every offending node) and
 * nothing is written. Added nodes and edges are fine.
 */
import { IncompatibleStateError, WorkflowEngine } from "@wf/core";
import { describe, expect, it } from "vitest";
import { type Harness, rejection, snapshotRun } from "../harness.js";
import { Decrement, Increment, linear } from "../workflows.js";

export function validationSuite(h: Harness): void {
  describe("validation (invariant 6)", () => {
    it("a removed and a retyped node both make resume and fork fail with INCOMPATIBLE_STATE, writing nothing", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("validation");
      const original = { workflowId, ...linear(4), initialState: { count: 0 } };
      const engine = await WorkflowEngine.create({ ...original, storage: store });
      for (let i = 0; i < 3; i++) await engine.step();
      const before = await snapshotRun(store, workflowId, engine.runId);
      const restarted = await h.restart(store);
      const changed = {
        workflowId,
        nodes: [
          new Increment({ id: "s1" }),
          new Decrement({ id: "s3" }),
          new Increment({ id: "s4" }),
        ],
        edges: [{ from: "s1", to: "s3" }],
        storage: restarted,
      };
      for (const fork of [false, true]) {
        const error = await rejection(
          WorkflowEngine.create({ ...changed, runId: engine.runId, fork }),
        );
        expect(error).toBeInstanceOf(IncompatibleStateError);
        expect(error.code).toBe("INCOMPATIBLE_STATE");
        expect(error.message.startsWith("Cannot resume:")).toBe(true);
        expect(error.message).toContain('"s2"');
        expect(error.message).toContain('"s3"');
        expect(error.message).not.toContain('"s1"');
        expect(
          (error as IncompatibleStateError).nodes.map((n) => [n.nodeId, n.currentType]),
        ).toEqual([
          ["s2", null],
          ["s3", "Decrement"],
        ]);
      }
      expect(await snapshotRun(restarted, workflowId, engine.runId)).toBe(before);
      expect((await restarted.listRuns(workflowId)).items).toHaveLength(1);
    });

    it("added nodes and edges are fine, and resuming from a step before the changed nodes ran works", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("validation-ok");
      const engine = await WorkflowEngine.create({
        workflowId,
        ...linear(3),
        storage: store,
        initialState: { count: 0 },
      });
      await engine.step();
      await engine.step();
      const { nodes, edges } = linear(3);
      const extended = {
        workflowId,
        nodes: [...nodes, new Decrement({ id: "extra" })],
        edges: [{ from: "s2", to: "extra" }, ...edges, { from: "extra", to: "s3" }],
        storage: store,
      };
      const resumed = await WorkflowEngine.create({ ...extended, runId: engine.runId });
      expect(resumed.nextNodeId).toBe("extra");
      expect(await resumed.run()).toBe("completed");
      expect(resumed.shared).toEqual({ count: 2, trail: ["s1", "s2", "extra", "s3"] });

      const retyped = {
        workflowId,
        nodes: [new Decrement({ id: "s1" }), new Increment({ id: "s9" })],
        storage: store,
      };
      const fromZero = await WorkflowEngine.create({
        ...retyped,
        runId: engine.runId,
        resumeFrom: 0,
      });
      expect(fromZero.nextNodeId).toBe("s1");
    });
  });
}
