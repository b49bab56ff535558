/**
 * Invariant 5: a fork from k is a new run whose first record is step k with
 * the source's state; the source stays byte-identical; a fork costs the same
 * whatever the source's length; deleting the source leaves the fork
 * resumable, its history then starting at k.
 */
import { WorkflowEngine, type WorkflowStorage } from "@wf/core";
import { describe, expect, it } from "vitest";
import { countingStorage } from "../counting-storage.js";
import { type Harness, snapshotRun } from "../harness.js";
import { linear, loop } from "../workflows.js";

/** A completed linear run of `length` nodes, and the means to fork or reopen runs of it. */
async function completedRun(h: Harness, label: string, length: number) {
  const store = await h.open();
  const workflowId = h.workflowId(label);
  const definition = { workflowId, ...linear(length), initialState: { count: 0 } };
  const source = await WorkflowEngine.create({ ...definition, storage: store });
  await source.run();
  return {
    store,
    workflowId,
    source,
    fork: (runId: string, resumeFrom: number) =>
      WorkflowEngine.create({ ...definition, storage: store, runId, resumeFrom, fork: true }),
    reopen: (runId: string, resumeFrom?: number, storage: WorkflowStorage = store) =>
      WorkflowEngine.create({ ...definition, storage, runId, resumeFrom }),
  };
}

export function forkSuite(h: Harness): void {
  describe("fork (invariant 5)", () => {
    it("a fork from k starts with the source's step k and forkedFrom, and the source stays byte-identical", async () => {
      const { store, workflowId, source, fork: forkAt, reopen } = await completedRun(h, "fork", 5);
      const before = await snapshotRun(store, workflowId, source.runId);
      const sourceStep3 = await store.getStep(workflowId, source.runId, 3);

      const fork = await forkAt(source.runId, 3);
      expect(fork.runId).not.toBe(source.runId);
      expect(fork.shared).toEqual({ count: 3, trail: ["s1", "s2", "s3"] });
      const forkRun = await store.getRun(workflowId, fork.runId);
      expect(forkRun).toMatchObject({ headStep: 3, forkedFrom: { runId: source.runId, step: 3 } });
      const forkSteps = (await store.listSteps(workflowId, fork.runId)).items;
      expect(forkSteps).toHaveLength(1);
      const { runId: _r, createdAt: _c, ...sourceRest } = sourceStep3;
      expect(forkSteps[0]).toMatchObject({ ...sourceRest, runId: fork.runId, step: 3, parent: 2 });

      expect(await fork.run()).toBe("completed");
      expect((await reopen(source.runId, 1)).currentStep).toBe(1);
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
      const { source, fork: forkAt, reopen } = await completedRun(h, "fork-history", 5);
      const fork = await forkAt(source.runId, 2);
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
      expect((await reopen(fork.runId, 1)).shared).toEqual({ count: 1, trail: ["s1"] });
    });

    it("a fork of a fork reads through both sources", async () => {
      const { store, workflowId, source, fork: forkAt } = await completedRun(h, "fork-of-fork", 6);
      const fork = await forkAt(source.runId, 4);
      await fork.run();
      const forkOfFork = await forkAt(fork.runId, 2);
      expect(forkOfFork.shared).toEqual({ count: 2, trail: ["s1", "s2"] });
      expect(await store.getRun(workflowId, forkOfFork.runId)).toMatchObject({
        forkedFrom: { runId: fork.runId, step: 2 },
      });
      await forkOfFork.run();
      expect((await forkOfFork.history()).map((r) => r.step)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    });

    it("deleting the source leaves the fork resumable, its history starting at k", async () => {
      const {
        store,
        workflowId,
        source,
        fork: forkAt,
        reopen,
      } = await completedRun(h, "fork-orphan", 5);
      const fork = await forkAt(source.runId, 3);
      await store.deleteRun(workflowId, source.runId);
      const restarted = await h.restart(store);
      const resumed = await reopen(fork.runId, undefined, restarted);
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
