/** Deleting a run removes its metadata and every step it stores, and nothing else. */
import { describe, expect, it } from "vitest";
import { collectPages, type Harness, rejection, sampleStep, seedRun } from "../harness.js";

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

    it("no append is acknowledged once a delete has completed, even from another store instance that held the head", async () => {
      const deleter = await h.open();
      // A non-persistent store has no second instance on the same data: the same one stands in.
      const writer = (await h.capabilities()).persistent ? await h.open() : deleter;
      const workflowId = h.workflowId("delete-fence");
      const runId = await seedRun(deleter, workflowId, 1);
      // The writer has read and appended, so whatever it caches about the run is warm.
      expect((await writer.getLatestStep(workflowId, runId)).step).toBe(1);
      await writer.appendStep(sampleStep(workflowId, runId, 2));
      await writer.appendStep(sampleStep(workflowId, runId, 3));
      await deleter.deleteRun(workflowId, runId);
      for (let step = 4; step < 16; step++) {
        const error = await rejection(writer.appendStep(sampleStep(workflowId, runId, step)));
        expect(error.code, `append of step ${step}`).toBe("RUN_NOT_FOUND");
      }
      expect((await rejection(deleter.getRun(workflowId, runId))).code).toBe("RUN_NOT_FOUND");
      expect((await rejection(writer.getLatestStep(workflowId, runId))).code).toBe("RUN_NOT_FOUND");
      expect((await deleter.listRuns(workflowId)).items).toEqual([]);
    });
  });
}
