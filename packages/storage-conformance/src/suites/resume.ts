/**
 * Invariants 1, 3 and 4 through the engine: opening a run writes nothing;
 * resume latest continues from the head; resume from k continues from k's
 * state with new step numbers and parent k, keeping the superseded steps.
 */
import { WorkflowEngine } from "@wf/core";
import { describe, expect, it } from "vitest";
import { countingStorage } from "../counting-storage.js";
import { type Harness, rejection, snapshotRun } from "../harness.js";
import { linear } from "../workflows.js";

export function resumeSuite(h: Harness): void {
  describe("resume (invariants 1, 3, 4)", () => {
    it("opening a run to resume or read its history writes nothing", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("read-only");
      const definition = { workflowId, ...linear(4), initialState: { count: 0 } };
      const engine = await WorkflowEngine.create({ ...definition, storage: store });
      await engine.step();
      await engine.step();
      const before = await snapshotRun(store, workflowId, engine.runId);
      const restarted = await h.restart(store);
      const counted = countingStorage(restarted);
      for (const resumeFrom of [undefined, 0, 1, 2]) {
        const opened = await WorkflowEngine.create({
          ...definition,
          storage: counted.storage,
          runId: engine.runId,
          resumeFrom,
        });
        await opened.history();
      }
      expect(counted.writes()).toBe(0);
      expect(await snapshotRun(restarted, workflowId, engine.runId)).toBe(before);
    });

    it("resume latest continues from the head with the head's state", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("resume-latest");
      const definition = { workflowId, ...linear(4), initialState: { count: 0 } };
      const engine = await WorkflowEngine.create({ ...definition, storage: store });
      await engine.step();
      await engine.step();
      const restarted = await h.restart(store);
      const resumed = await WorkflowEngine.create({
        ...definition,
        storage: restarted,
        runId: engine.runId,
      });
      expect(resumed.currentStep).toBe(2);
      expect(resumed.shared).toEqual({ count: 2, trail: ["s1", "s2"] });
      expect(resumed.nextNodeId).toBe("s3");
      expect(await resumed.run()).toBe("completed");
      const head = await restarted.getLatestStep(workflowId, engine.runId);
      expect(head).toMatchObject({ step: 4, parent: 3, status: "completed", nextNodeId: null });
      expect(head.shared).toEqual({ count: 4, trail: ["s1", "s2", "s3", "s4"] });
    });

    it("resume from k continues from k's state; new steps take the next numbers with parent k; superseded steps stay", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("resume-from");
      const definition = { workflowId, ...linear(4), initialState: { count: 0 } };
      const engine = await WorkflowEngine.create({ ...definition, storage: store });
      await engine.run();
      const superseded = await snapshotRun(store, workflowId, engine.runId);
      const restarted = await h.restart(store);
      const resumed = await WorkflowEngine.create({
        ...definition,
        storage: restarted,
        runId: engine.runId,
        resumeFrom: 2,
      });
      expect(resumed.shared).toEqual({ count: 2, trail: ["s1", "s2"] });
      await resumed.step();
      const step5 = await restarted.getStep(workflowId, engine.runId, 5);
      expect(step5).toMatchObject({ step: 5, parent: 2, previousNodeId: "s3" });
      expect(await resumed.run()).toBe("completed");
      const steps = (await restarted.listSteps(workflowId, engine.runId)).items;
      expect(steps.map((s) => [s.step, s.parent])).toEqual([
        [0, null],
        [1, 0],
        [2, 1],
        [3, 2],
        [4, 3],
        [5, 2],
        [6, 5],
      ]);
      const old = JSON.parse(superseded) as { steps: unknown[] };
      expect(steps.slice(0, 5)).toEqual(old.steps);
      const history = await resumed.history();
      expect(history.map((s) => s.step)).toEqual([0, 1, 2, 5, 6]);
      expect((await restarted.getRun(workflowId, engine.runId)).headStep).toBe(6);
    });

    it("resume from a step past the head fails with STEP_NOT_FOUND; an unknown run with RUN_NOT_FOUND", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("resume-bad");
      const definition = { workflowId, ...linear(2), storage: store };
      const engine = await WorkflowEngine.create(definition);
      await engine.step();
      expect(
        (
          await rejection(
            WorkflowEngine.create({ ...definition, runId: engine.runId, resumeFrom: 2 }),
          )
        ).code,
      ).toBe("STEP_NOT_FOUND");
      expect(
        (await rejection(WorkflowEngine.create({ ...definition, runId: "no-such-run" }))).code,
      ).toBe("RUN_NOT_FOUND");
      expect((await store.listRuns(workflowId)).items).toHaveLength(1);
    });

    it("eight engines stepping one run at once: one step lands, the rest get STEP_CONFLICT, nothing is duplicated", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("engine-race");
      const definition = { workflowId, ...linear(12), initialState: { count: 0 } };
      const first = await WorkflowEngine.create({ ...definition, storage: store });
      for (let round = 1; round <= 6; round++) {
        const engines = await Promise.all(
          Array.from({ length: 8 }, () =>
            WorkflowEngine.create({ ...definition, storage: store, runId: first.runId }),
          ),
        );
        const results = await Promise.allSettled(engines.map((e) => e.step()));
        expect(
          results.filter((r) => r.status === "fulfilled"),
          `round ${round}`,
        ).toHaveLength(1);
        for (const r of results)
          if (r.status === "rejected") expect(r.reason.code).toBe("STEP_CONFLICT");
      }
      const steps = (await store.listSteps(workflowId, first.runId)).items;
      expect(steps.map((s) => s.step)).toEqual([0, 1, 2, 3, 4, 5, 6]);
      expect(steps.at(-1)?.shared).toEqual({
        count: 6,
        trail: ["s1", "s2", "s3", "s4", "s5", "s6"],
      });
    });
  });
}
