/** close(): idempotent, and afterwards every method fails with STORAGE_CLOSED. */
import { describe, expect, it } from "vitest";
import { type Harness, rejection, sampleRun, sampleStep, seedRun } from "../harness.js";

export function closingSuite(h: Harness): void {
  describe("closing", () => {
    it("after close every method fails with STORAGE_CLOSED", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("closed");
      const runId = await seedRun(store, workflowId, 1);
      await store.close();
      const calls: [string, () => Promise<unknown>][] = [
        [
          "createRun",
          () => store.createRun(sampleRun(workflowId, "x1"), sampleStep(workflowId, "x1", 0)),
        ],
        ["appendStep", () => store.appendStep(sampleStep(workflowId, runId, 2))],
        ["getRun", () => store.getRun(workflowId, runId)],
        ["getStep", () => store.getStep(workflowId, runId, 0)],
        ["getLatestStep", () => store.getLatestStep(workflowId, runId)],
        ["listSteps", () => store.listSteps(workflowId, runId)],
        ["listRuns", () => store.listRuns(workflowId)],
        ["listWorkflows", () => store.listWorkflows()],
        ["deleteRun", () => store.deleteRun(workflowId, runId)],
      ];
      for (const [method, call] of calls) {
        expect((await rejection(call())).code, method).toBe("STORAGE_CLOSED");
      }
    });

    it("close is idempotent", async () => {
      const store = await h.open();
      await store.close();
      await expect(store.close()).resolves.toBeUndefined();
    });

    it("what was written before close is there for the next store (capability: persistent)", async (context) => {
      // A store whose data lives in the instance has no next store to ask: it would pass trivially.
      if (!(await h.capabilities()).persistent)
        return context.skip("the store does not declare `persistent`: no restart to survive");
      const store = await h.open();
      const workflowId = h.workflowId("durable");
      const runId = await seedRun(store, workflowId, 2);
      const next = await h.restart(store);
      expect(next).not.toBe(store);
      expect((await next.getRun(workflowId, runId)).headStep).toBe(2);
      expect((await next.getLatestStep(workflowId, runId)).step).toBe(2);
    });
  });
}
