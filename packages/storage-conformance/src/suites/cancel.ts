/**
 * Cancelling through the store: `cancelRun` appends a `cancelled` step the
 * store keeps whole (reason, state, next node), lists under `cancelled`, and
 * a restarted engine honours; a stale writer then loses its append; the run
 * can still be forked, or resumed, from the step before the cancel.
 */
import { cancelRun, hasErrorCode, WorkflowEngine } from "@wf/core";
import { describe, expect, it } from "vitest";
import type { Harness } from "../harness.js";
import { linear } from "../workflows.js";

export function cancelSuite(h: Harness): void {
  describe("cancel", () => {
    it("cancelRun journals a cancelled step the store keeps whole and lists under cancelled, and a restart honours it", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("cancel");
      const definition = { workflowId, ...linear(4), initialState: { count: 0 } };
      const engine = await WorkflowEngine.create({ ...definition, storage: store });
      await engine.step();
      await engine.step();
      expect(
        await cancelRun(store, workflowId, engine.runId, { reason: "customer withdrew" }),
      ).toBe(true);

      // The engine that was stepping the run loses its next append, and stores nothing.
      const stale = await engine.step().catch((error: unknown) => error);
      expect(hasErrorCode(stale, "STEP_CONFLICT")).toBe(true);

      const restarted = await h.restart(store);
      const cancelled = await restarted.getLatestStep(workflowId, engine.runId);
      expect(cancelled).toMatchObject({
        step: 3,
        parent: 2,
        status: "cancelled",
        previousNodeId: null,
        nextNodeId: "s3",
        awaitingInput: null,
        shared: { count: 2, trail: ["s1", "s2"] },
        error: {
          name: "RunCancelled",
          message: "customer withdrew",
          code: "CANCELLED",
          nodeId: "s3",
          stack: null,
        },
      });
      expect(await restarted.getRun(workflowId, engine.runId)).toMatchObject({
        status: "cancelled",
        headStep: 3,
      });
      const listed = await restarted.listRuns(workflowId, { status: "cancelled" });
      expect(listed.items.map((run) => run.runId)).toEqual([engine.runId]);
      expect((await restarted.listRuns(workflowId, { status: "running" })).items).toEqual([]);

      const reopened = await WorkflowEngine.create({
        ...definition,
        storage: restarted,
        runId: engine.runId,
      });
      expect(reopened.status).toBe("cancelled");
      expect(await reopened.run()).toBe("cancelled");
      expect(await cancelRun(restarted, workflowId, engine.runId)).toBe(false);
      expect((await restarted.getRun(workflowId, engine.runId)).headStep).toBe(3);
    });

    it("a cancelled run forks, and resumes, from the step before its cancel", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("cancel-fork");
      const definition = { workflowId, ...linear(3), initialState: { count: 0 } };
      const engine = await WorkflowEngine.create({ ...definition, storage: store });
      await engine.step();
      await engine.cancel();

      const fork = await WorkflowEngine.create({
        ...definition,
        storage: store,
        runId: engine.runId,
        resumeFrom: 1,
        fork: true,
      });
      expect(await fork.run()).toBe("completed");
      expect(fork.shared).toEqual({ count: 3, trail: ["s1", "s2", "s3"] });

      const resumed = await WorkflowEngine.create({
        ...definition,
        storage: store,
        runId: engine.runId,
        resumeFrom: 1,
      });
      expect(await resumed.run()).toBe("completed");
      const steps = (await store.listSteps(workflowId, engine.runId)).items;
      expect(steps.map((record) => [record.step, record.parent, record.status])).toEqual([
        [0, null, "running"],
        [1, 0, "running"],
        [2, 1, "cancelled"],
        [3, 1, "running"],
        [4, 3, "completed"],
      ]);
      expect((await store.getRun(workflowId, engine.runId)).status).toBe("completed");
    });
  });
}
