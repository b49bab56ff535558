/**
 * Invariants 1 and 2: steps are appended, never rewritten, and step n is
 * written only if the head is n-1, atomically with the metadata. Racing
 * writers: exactly one wins, the others get STEP_CONFLICT, nothing partial.
 */
import { describe, expect, it } from "vitest";
import {
  type Harness,
  rejection,
  sampleStep,
  seedRun,
  snapshotRun,
  uniqueRunId,
} from "../harness.js";

export function appendSuite(h: Harness): void {
  describe("conditional append (invariants 1 and 2)", () => {
    it("append of step n when the head is n-1 stores it and advances the metadata with it", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("append");
      const runId = await seedRun(store, workflowId, 0);
      const before = await store.getRun(workflowId, runId);
      const step1 = sampleStep(workflowId, runId, 1, { status: "waiting_for_input" });
      await store.appendStep(step1);
      expect(await store.getStep(workflowId, runId, 1)).toEqual(step1);
      expect(await store.getLatestStep(workflowId, runId)).toEqual(step1);
      expect(await store.getRun(workflowId, runId)).toEqual({
        ...before,
        headStep: 1,
        status: "waiting_for_input",
        updatedAt: step1.createdAt,
      });
    });

    it("append of an existing step fails with STEP_CONFLICT and leaves the stored step unchanged", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("append-existing");
      const runId = await seedRun(store, workflowId, 3);
      const before = await snapshotRun(store, workflowId, runId);
      for (const step of [1, 3]) {
        const error = await rejection(
          store.appendStep(sampleStep(workflowId, runId, step, { shared: { rewritten: true } })),
        );
        expect(error.code).toBe("STEP_CONFLICT");
      }
      expect(await snapshotRun(store, workflowId, runId)).toBe(before);
    });

    it("append that skips a step fails with STEP_CONFLICT and writes nothing", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("append-gap");
      const runId = await seedRun(store, workflowId, 2);
      const before = await snapshotRun(store, workflowId, runId);
      const error = await rejection(store.appendStep(sampleStep(workflowId, runId, 4)));
      expect(error.code).toBe("STEP_CONFLICT");
      expect(await snapshotRun(store, workflowId, runId)).toBe(before);
      expect((await rejection(store.getStep(workflowId, runId, 4))).code).toBe("STEP_NOT_FOUND");
    });

    it("append to an unknown run fails with RUN_NOT_FOUND and creates nothing", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("append-unknown");
      const runId = uniqueRunId();
      const error = await rejection(store.appendStep(sampleStep(workflowId, runId, 1)));
      expect(error.code).toBe("RUN_NOT_FOUND");
      expect((await rejection(store.getRun(workflowId, runId))).code).toBe("RUN_NOT_FOUND");
      expect((await store.listRuns(workflowId)).items).toEqual([]);
    });

    it("16 writers racing for the same step, 20 rounds: exactly one wins each round", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("race");
      const runId = await seedRun(store, workflowId, 0);
      for (let step = 1; step <= 20; step++) {
        const attempts = Array.from({ length: 16 }, (_, writer) =>
          sampleStep(workflowId, runId, step, { shared: { step, writer } }),
        );
        const results = await Promise.allSettled(
          attempts.map((record) => store.appendStep(record)),
        );
        const winners = results.flatMap((r, i) => (r.status === "fulfilled" ? [i] : []));
        expect(winners, `round ${step}`).toHaveLength(1);
        for (const result of results) {
          if (result.status === "rejected") expect(result.reason.code).toBe("STEP_CONFLICT");
        }
        expect(await store.getStep(workflowId, runId, step)).toEqual(
          attempts[winners[0] as number],
        );
        expect((await store.getRun(workflowId, runId)).headStep).toBe(step);
      }
      const steps = (await store.listSteps(workflowId, runId, { limit: 100 })).items;
      expect(steps.map((s) => s.step)).toEqual(Array.from({ length: 21 }, (_, i) => i));
    });

    it("writers racing from two store instances: exactly one wins and the other sees the winner (capability: persistent)", async (context) => {
      // Without `persistent` there is no second instance on the same data, and one
      // instance racing itself is the test above.
      if (!(await h.capabilities()).persistent)
        return context.skip(
          "the store does not declare `persistent`: no second instance on its data",
        );
      const a = await h.open();
      const b = await h.open();
      const workflowId = h.workflowId("race-two-stores");
      const runId = await seedRun(a, workflowId, 0);
      for (let step = 1; step <= 10; step++) {
        const results = await Promise.allSettled([
          a.appendStep(sampleStep(workflowId, runId, step, { shared: { by: "a" } })),
          b.appendStep(sampleStep(workflowId, runId, step, { shared: { by: "b" } })),
        ]);
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
        const winner = results[0]?.status === "fulfilled" ? "a" : "b";
        expect((await b.getStep(workflowId, runId, step)).shared).toEqual({ by: winner });
        expect((await a.getRun(workflowId, runId)).headStep).toBe(step);
      }
    });

    it("appends to different runs at once do not interfere", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("parallel-runs");
      const runIds = await Promise.all(
        Array.from({ length: 6 }, () => seedRun(store, workflowId, 0)),
      );
      for (let step = 1; step <= 5; step++) {
        await Promise.all(
          runIds.map((runId) => store.appendStep(sampleStep(workflowId, runId, step))),
        );
      }
      for (const runId of runIds) {
        expect((await store.getRun(workflowId, runId)).headStep).toBe(5);
        expect((await store.listSteps(workflowId, runId)).items).toHaveLength(6);
      }
    });
  });
}
