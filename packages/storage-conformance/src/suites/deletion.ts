/** Deleting a run removes its metadata and every step it stores, and nothing else. */
import { describe, expect, it } from "vitest";
import { collectPages, type Harness, rejection, seedRun } from "../harness.js";

export function deletionSuite(h: Harness): void {
  describe("deleting runs", () => {
    it("deleteRun removes the run and its steps, and leaves other runs intact", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("delete");
      const doomed = await seedRun(store, workflowId, 3);
      const kept = await seedRun(store, workflowId, 2);
      await store.deleteRun(workflowId, doomed);
      expect((await rejection(store.getRun(workflowId, doomed))).code).toBe("RUN_NOT_FOUND");
      expect((await rejection(store.getStep(workflowId, doomed, 1))).code).toBe("RUN_NOT_FOUND");
      expect((await rejection(store.getLatestStep(workflowId, doomed))).code).toBe("RUN_NOT_FOUND");
      const runs = await collectPages((cursor) => store.listRuns(workflowId, { cursor }));
      expect(runs.map((r) => r.runId)).toEqual([kept]);
      expect((await store.listSteps(workflowId, kept)).items).toHaveLength(3);
    });

    it("deleteRun of an unknown run fails with RUN_NOT_FOUND", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("delete-unknown");
      const runId = await seedRun(store, workflowId, 0);
      await store.deleteRun(workflowId, runId);
      expect((await rejection(store.deleteRun(workflowId, runId))).code).toBe("RUN_NOT_FOUND");
    });

    it("a deleted run id can be created afresh, without the old steps", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("recreate");
      const runId = await seedRun(store, workflowId, 4);
      await store.deleteRun(workflowId, runId);
      await seedRun(store, workflowId, 0, runId);
      expect((await store.getRun(workflowId, runId)).headStep).toBe(0);
      expect((await store.listSteps(workflowId, runId)).items.map((s) => s.step)).toEqual([0]);
    });

    it("a workflow whose last run was deleted is no longer listed", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("last-run");
      const runId = await seedRun(store, workflowId, 0);
      await store.deleteRun(workflowId, runId);
      const listed = await collectPages((cursor) => store.listWorkflows({ cursor }));
      expect(listed).not.toContain(workflowId);
    });
  });
}
