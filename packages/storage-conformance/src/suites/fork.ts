/**
 * Invariant 5: a fork from k is a new run whose first record is step k with
 * the source's state; the source stays byte-identical; a fork costs the same
 * whatever the source's length; deleting the source leaves the fork
 * resumable, its history then starting at k.
 */
import { WorkflowEngine } from "@wf/core";
import { describe, expect, it } from "vitest";
import { countingStorage } from "../counting-storage.js";
import { type Harness, snapshotRun } from "../harness.js";
import { linear, loop } from "../workflows.js";

export function forkSuite(h: Harness): void {
  describe("fork (invariant 5)", () => {
    it("a fork from k starts with the source's step k and forkedFrom, and the source stays byte-identical", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("fork");
      const definition = { workflowId, ...linear(5), initialState: { count: 0 } };
      const source = await WorkflowEngine.create({ ...definition, storage: store });
      await source.run();
      const before = await snapshotRun(store, workflowId, source.runId);
      const sourceStep3 = await store.getStep(workflowId, source.runId, 3);

      const fork = await WorkflowEngine.create({
        ...definition,
        storage: store,
        runId: source.runId,
        resumeFrom: 3,
        fork: true,
      });
      expect(fork.runId).not.toBe(source.runId);
      expect(fork.shared).toEqual({ count: 3, trail: ["s1", "s2", "s3"] });
      const forkRun = await store.getRun(workflowId, fork.runId);
      expect(forkRun).toMatchObject({ headStep: 3, forkedFrom: { runId: source.runId, step: 3 } });
      const forkSteps = (await store.listSteps(workflowId, fork.runId)).items;
      expect(forkSteps).toHaveLength(1);
      const { runId: _r, createdAt: _c, ...sourceRest } = sourceStep3;
      expect(forkSteps[0]).toMatchObject({ ...sourceRest, runId: fork.runId, step: 3, parent: 2 });

      expect(await fork.run()).toBe("completed");
      const resumedSource = await WorkflowEngine.create({
        ...definition,
        storage: store,
        runId: source.runId,
        resumeFrom: 1,
      });
      expect(resumedSource.currentStep).toBe(1);
      expect(await snapshotRun(store, workflowId, source.runId)).toBe(before);
      expect(
        (await store.listSteps(workflowId, fork.runId)).items.map((s) => [s.step, s.parent]),
      ).toEqual([
        [3, 2],
        [4, 3],
        [5, 4],
      ]);
    });

    it("a fork's history reads steps before k through its source", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("fork-history");
      const definition = { workflowId, ...linear(5), initialState: { count: 0 } };
      const source = await WorkflowEngine.create({ ...definition, storage: store });
      await source.run();
      const fork = await WorkflowEngine.create({
        ...definition,
        storage: store,
        runId: source.runId,
        resumeFrom: 2,
        fork: true,
      });
      await fork.run();
      const history = await fork.history();
      expect(history.map((r) => [r.runId === source.runId ? "source" : "fork", r.step])).toEqual([
        ["source", 0],
        ["source", 1],
        ["fork", 2],
        ["fork", 3],
        ["fork", 4],
        ["fork", 5],
      ]);
      const reopened = await WorkflowEngine.create({
        ...definition,
        storage: store,
        runId: fork.runId,
        resumeFrom: 1,
      });
      expect(reopened.shared).toEqual({ count: 1, trail: ["s1"] });
    });

    it("a fork of a fork reads through both sources", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("fork-of-fork");
      const definition = { workflowId, ...linear(6), initialState: { count: 0 } };
      const source = await WorkflowEngine.create({ ...definition, storage: store });
      await source.run();
      const fork = await WorkflowEngine.create({
        ...definition,
        storage: store,
        runId: source.runId,
        resumeFrom: 4,
        fork: true,
      });
      await fork.run();
      const forkOfFork = await WorkflowEngine.create({
        ...definition,
        storage: store,
        runId: fork.runId,
        resumeFrom: 2,
        fork: true,
      });
      expect(forkOfFork.shared).toEqual({ count: 2, trail: ["s1", "s2"] });
      expect(await store.getRun(workflowId, forkOfFork.runId)).toMatchObject({
        forkedFrom: { runId: fork.runId, step: 2 },
      });
      await forkOfFork.run();
      expect((await forkOfFork.history()).map((r) => r.step)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    });

    it("deleting the source leaves the fork resumable, its history starting at k", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("fork-orphan");
      const definition = { workflowId, ...linear(5), initialState: { count: 0 } };
      const source = await WorkflowEngine.create({ ...definition, storage: store });
      await source.run();
      const fork = await WorkflowEngine.create({
        ...definition,
        storage: store,
        runId: source.runId,
        resumeFrom: 3,
        fork: true,
      });
      await store.deleteRun(workflowId, source.runId);
      const restarted = await h.restart(store);
      const resumed = await WorkflowEngine.create({
        ...definition,
        storage: restarted,
        runId: fork.runId,
      });
      expect(resumed.shared).toEqual({ count: 3, trail: ["s1", "s2", "s3"] });
      expect(await resumed.run()).toBe("completed");
      expect((await resumed.history()).map((r) => r.step)).toEqual([3, 4, 5]);
      expect(resumed.shared).toEqual({ count: 5, trail: ["s1", "s2", "s3", "s4", "s5"] });
    });

    it("a fork costs the same storage calls from a 5-step run as from a 150-step run", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("fork-cost");
      const costs: number[] = [];
      for (const target of [5, 150]) {
        const definition = { workflowId, ...loop(), initialState: { count: 0, target } };
        const source = await WorkflowEngine.create({ ...definition, storage: store });
        await source.run();
        expect(source.currentStep).toBe(target);
        const counted = countingStorage(store);
        const fork = await WorkflowEngine.create({
          ...definition,
          storage: counted.storage,
          runId: source.runId,
          resumeFrom: target - 1,
          fork: true,
        });
        costs.push(counted.total());
        expect((await store.listSteps(workflowId, fork.runId)).items).toHaveLength(1);
      }
      expect(costs[1]).toBe(costs[0]);
    });
  });
}
