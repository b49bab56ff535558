/**
 * Creating and reading runs and steps: what is written is what is read, and
 * absent things fail with their codes (RUN_NOT_FOUND, STEP_NOT_FOUND, RUN_EXISTS).
 */
import { isDeepStrictEqual } from "node:util";
import { describe, expect, it } from "vitest";
import {
  type Harness,
  rejection,
  sampleRun,
  sampleStep,
  seedRun,
  uniqueRunId,
} from "../harness.js";

export function recordsSuite(h: Harness): void {
  describe("creating and reading runs", () => {
    it("the store keeps copies of the records it is handed, not references", async () => {
      // The engine and callers reuse their objects after a write: a store that kept
      // them would change what it reads back. Run on the store as the factory made it
      // (every other test hands over copies, so this cause is reported here only).
      const store = await h.openAsIs();
      const workflowId = h.workflowId("kept-reference");
      const runId = uniqueRunId();
      const run = sampleRun(workflowId, runId);
      const first = sampleStep(workflowId, runId, 0);
      const next = sampleStep(workflowId, runId, 1);
      await store.createRun(run, first);
      await store.appendStep(next);
      run.status = "failed";
      (first.shared as { step: number }).step = -1;
      (next.shared as { step: number }).step = -1;
      next.nodeStatuses.a = "failed";
      const keptStep = !isDeepStrictEqual(
        await store.getStep(workflowId, runId, 1),
        sampleStep(workflowId, runId, 1),
      );
      expect(
        keptStep,
        "the store kept a reference to the record it was handed: mutating it after appendStep changed what is read back",
      ).toBe(false);
      const keptFirst = !isDeepStrictEqual(
        await store.getStep(workflowId, runId, 0),
        sampleStep(workflowId, runId, 0),
      );
      expect(
        keptFirst,
        "the store kept a reference to the record it was handed: mutating it after createRun changed what is read back",
      ).toBe(false);
      const readRun = await store.getRun(workflowId, runId);
      expect(
        readRun.status,
        "the store kept a reference to the metadata it was handed: mutating it after createRun changed what is read back",
      ).toBe("running");
    });

    it("createRun stores the metadata and the first step, read back equal", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("create");
      const runId = uniqueRunId();
      const run = sampleRun(workflowId, runId);
      const step0 = sampleStep(workflowId, runId, 0);
      await store.createRun(run, step0);
      expect(await store.getRun(workflowId, runId)).toEqual(run);
      expect(await store.getStep(workflowId, runId, 0)).toEqual(step0);
      expect(await store.getLatestStep(workflowId, runId)).toEqual(step0);
      const page = await store.listSteps(workflowId, runId);
      expect(page.items).toEqual([step0]);
      expect(page.nextCursor).toBeNull();
    });

    it("createRun of an existing run fails with RUN_EXISTS and changes nothing", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("exists");
      const runId = await seedRun(store, workflowId, 2);
      const before = await store.getRun(workflowId, runId);
      const error = await rejection(
        store.createRun(
          sampleRun(workflowId, runId, { status: "completed" }),
          sampleStep(workflowId, runId, 0, { shared: { overwritten: true } }),
        ),
      );
      expect(error.code).toBe("RUN_EXISTS");
      expect(await store.getRun(workflowId, runId)).toEqual(before);
      expect(await store.getStep(workflowId, runId, 0)).toEqual(sampleStep(workflowId, runId, 0));
      expect(await store.getLatestStep(workflowId, runId)).toEqual(
        sampleStep(workflowId, runId, 2),
      );
    });

    it("two createRun calls racing for one run id: exactly one wins", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("create-race");
      const runId = uniqueRunId();
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          store.createRun(
            sampleRun(workflowId, runId),
            sampleStep(workflowId, runId, 0, { shared: { writer: i } }),
          ),
        ),
      );
      const winners = results.flatMap((r, i) => (r.status === "fulfilled" ? [i] : []));
      expect(winners).toHaveLength(1);
      for (const result of results) {
        if (result.status === "rejected") expect(result.reason.code).toBe("RUN_EXISTS");
      }
      expect((await store.getStep(workflowId, runId, 0)).shared).toEqual({ writer: winners[0] });
    });

    it("a run can start at step k (a fork's first record) and its head is k", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("start-at-k");
      const runId = uniqueRunId();
      const first = sampleStep(workflowId, runId, 3, { parent: 2 });
      const run = sampleRun(workflowId, runId, {
        headStep: 3,
        forkedFrom: { runId: "source-run", step: 3 },
      });
      await store.createRun(run, first);
      expect(await store.getRun(workflowId, runId)).toEqual(run);
      expect(await store.getLatestStep(workflowId, runId)).toEqual(first);
      expect((await store.listSteps(workflowId, runId)).items).toEqual([first]);
      expect((await rejection(store.getStep(workflowId, runId, 2))).code).toBe("STEP_NOT_FOUND");
      await store.appendStep(sampleStep(workflowId, runId, 4, { parent: 3 }));
      expect((await store.getRun(workflowId, runId)).headStep).toBe(4);
    });

    it("getRun, getLatestStep and listSteps of an unknown run fail with RUN_NOT_FOUND", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("unknown");
      const runId = uniqueRunId();
      // Started one at a time: a rejection nobody awaits yet would be reported as unhandled.
      for (const call of [
        () => store.getRun(workflowId, runId),
        () => store.getLatestStep(workflowId, runId),
        () => store.listSteps(workflowId, runId),
        () => store.getStep(workflowId, runId, 0),
      ]) {
        expect((await rejection(call())).code).toBe("RUN_NOT_FOUND");
      }
    });

    it("getStep of a step the run does not have fails with STEP_NOT_FOUND", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("no-step");
      const runId = await seedRun(store, workflowId, 1);
      expect((await rejection(store.getStep(workflowId, runId, 2))).code).toBe("STEP_NOT_FOUND");
      expect((await rejection(store.getStep(workflowId, runId, 99))).code).toBe("STEP_NOT_FOUND");
    });

    it("a run of another workflow with the same run id is a different run", async () => {
      const store = await h.open();
      const a = h.workflowId("same-run-a");
      const b = h.workflowId("same-run-b");
      const runId = uniqueRunId();
      await seedRun(store, a, 2, runId);
      await seedRun(store, b, 0, runId);
      expect((await store.getRun(a, runId)).headStep).toBe(2);
      expect((await store.getRun(b, runId)).headStep).toBe(0);
      expect((await store.getRun(b, runId)).workflowId).toBe(b);
    });

    it("getStep of a step number that cannot exist (negative, fractional, NaN) is STEP_NOT_FOUND", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("odd-step");
      const runId = await seedRun(store, workflowId, 3);
      for (const step of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
        const error = await rejection(store.getStep(workflowId, runId, step));
        expect(error.code, String(step)).toBe("STEP_NOT_FOUND");
      }
    });
  });
}
