/**
 * Invariant 7: the engine's cost per step stays flat. Appending step n and
 * opening a run at its head take the same storage calls at n = 10 as at
 * n = 300, and, with the adapter's `roundTrips` hook, the same round trips to
 * its server. (Time per call is the adapter's and is measured by the benchmarks.)
 */
import { WorkflowEngine } from "@wf/core";
import { describe, expect, it } from "vitest";
import { countingStorage } from "../counting-storage.js";
import type { Harness } from "../harness.js";
import { loop } from "../workflows.js";

export function costSuite(h: Harness): void {
  describe("flat cost (invariant 7)", () => {
    it("a step and an open take the same storage calls at step 10 as at step 300", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("cost");
      const definition = { workflowId, ...loop(), initialState: { count: 0, target: 1000 } };
      const engine = await WorkflowEngine.create({ ...definition, storage: store });
      // The adapter's own count, when it gave one; else 0 at every point.
      const roundTrips = () => h.roundTrips?.(store) ?? 0;
      const measure = async () => {
        const counted = countingStorage(store);
        const before = roundTrips();
        const opened = await WorkflowEngine.create({
          ...definition,
          storage: counted.storage,
          runId: engine.runId,
        });
        const openCalls = Object.fromEntries(counted.calls);
        const opening = roundTrips() - before;
        counted.calls.clear();
        await opened.step();
        const stepping = roundTrips() - before - opening;
        return {
          open: openCalls,
          step: Object.fromEntries(counted.calls),
          roundTrips: { open: opening, step: stepping },
        };
      };
      while (engine.currentStep < 10) await engine.step();
      const early = await measure();
      const late = await (async () => {
        const reopened = await WorkflowEngine.create({
          ...definition,
          storage: store,
          runId: engine.runId,
        });
        while (reopened.currentStep < 300) await reopened.step();
        return measure();
      })();
      expect(late).toEqual(early);
      expect(early.step).toEqual({ appendStep: 1 });
    });
  });
}
