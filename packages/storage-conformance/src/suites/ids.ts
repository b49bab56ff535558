/**
 * Hostile ids reach an adapter when it is called directly. Each is either
 * refused with INVALID_ID or stored verbatim as its own run, never reaching
 * another run's data (path traversal, key wildcards, case folding, injection).
 */
import { describe, expect, it } from "vitest";
import {
  collectPages,
  type Harness,
  rejection,
  sampleRun,
  sampleStep,
  seedRun,
} from "../harness.js";

export const HOSTILE_IDS = [
  "../x",
  "..",
  ".",
  "a/b",
  "a\\b",
  "/abs",
  "C:\\x",
  "CON",
  "nul.txt",
  "a:b",
  "a*",
  "a?b",
  "[ab]",
  "{tag}",
  "a b",
  "%2e%2e",
  "x'; DROP TABLE runs; --",
  "ünïcödé-日本",
  "trailing.",
  "x".repeat(300),
  "",
];

export function idsSuite(h: Harness): void {
  describe("hostile ids", () => {
    it("each hostile run id is refused with INVALID_ID or kept verbatim as its own run", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("hostile-run");
      const neighbour = await seedRun(store, workflowId, 1, "x");
      const accepted: string[] = [];
      for (const runId of HOSTILE_IDS) {
        try {
          await store.createRun(
            sampleRun(workflowId, runId),
            sampleStep(workflowId, runId, 0, { shared: { id: runId } }),
          );
        } catch (error) {
          expect((error as { code?: string }).code, JSON.stringify(runId)).toBe("INVALID_ID");
          continue;
        }
        accepted.push(runId);
        expect((await store.getRun(workflowId, runId)).runId).toBe(runId);
        expect((await store.getStep(workflowId, runId, 0)).shared).toEqual({ id: runId });
      }
      const listed = await collectPages((cursor) => store.listRuns(workflowId, { cursor }));
      expect(listed.map((r) => r.runId).sort()).toEqual([...accepted, neighbour].sort());
      expect((await store.getRun(workflowId, neighbour)).headStep).toBe(1);
      expect((await store.getStep(workflowId, neighbour, 1)).shared).toEqual({ step: 1 });
      for (const runId of accepted) await store.deleteRun(workflowId, runId);
      expect((await store.getRun(workflowId, neighbour)).headStep).toBe(1);
    });

    it("each hostile workflow id is refused with INVALID_ID or kept verbatim", async () => {
      const store = await h.open();
      const prefix = h.workflowId("hostile-wf");
      const candidates = HOSTILE_IDS.flatMap((hostile) =>
        hostile ? [`${prefix}${hostile}`, hostile] : [hostile],
      );
      for (const workflowId of candidates) {
        h.adopt(workflowId);
        let runId: string;
        try {
          runId = await seedRun(store, workflowId, 0);
        } catch (error) {
          expect((error as { code?: string }).code, JSON.stringify(workflowId)).toBe("INVALID_ID");
          continue;
        }
        const runs = await store.listRuns(workflowId);
        expect(runs.items.map((r) => [r.workflowId, r.runId])).toContainEqual([workflowId, runId]);
        expect(runs.items.every((r) => r.workflowId === workflowId)).toBe(true);
      }
      expect((await store.listRuns(prefix)).items).toEqual([]);
    });

    it("ids differing only in case, or in characters an encoding might fold, are different runs", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("case");
      const ids = ["Run", "run", "RUN", "a.b", "a_b", "a-b", "a%2eb", "a_2eb"];
      for (const runId of ids) {
        await store.createRun(
          sampleRun(workflowId, runId),
          sampleStep(workflowId, runId, 0, { shared: { runId } }),
        );
      }
      for (const runId of ids) {
        expect((await store.getStep(workflowId, runId, 0)).shared).toEqual({ runId });
      }
      const listed = await collectPages((cursor) => store.listRuns(workflowId, { cursor }));
      expect(listed.map((r) => r.runId).sort()).toEqual([...ids].sort());
      const error = await rejection(
        store.createRun(sampleRun(workflowId, "run"), sampleStep(workflowId, "run", 0)),
      );
      expect(error.code).toBe("RUN_EXISTS");
    });
  });
}
