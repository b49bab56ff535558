/**
 * Ids reach an adapter when it is called directly, as third-party code and
 * the command line call it. Every adapter applies core's one id rule on every
 * method, so an id is accepted or refused alike on every store; an accepted
 * hostile id is stored verbatim as its own run, never reaching another run's
 * data (path traversal, key wildcards, case folding, injection).
 */
import { isValidId, MAX_ID_LENGTH, type WorkflowStorage } from "@wf/core";
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
  "__proto__",
  "a\u0000b",
  "\ud800",
  "x".repeat(10_000),
];

/** Ids just outside the rule: one character too long, and each kind of character it refuses. */
const JUST_OUTSIDE = [
  "x".repeat(MAX_ID_LENGTH + 1),
  "",
  ".",
  "..",
  "__proto__",
  "a b",
  "a/b",
  "é",
  "a\u0000",
  "\udc00",
  "a#2",
];

/** Every contract method that takes ids, called with `workflowId` and `runId`. */
function idCalls(
  store: WorkflowStorage,
  workflowId: string,
  runId: string,
): [string, () => Promise<unknown>][] {
  return [
    [
      "createRun",
      () => store.createRun(sampleRun(workflowId, runId), sampleStep(workflowId, runId, 0)),
    ],
    ["appendStep", () => store.appendStep(sampleStep(workflowId, runId, 1))],
    ["getRun", () => store.getRun(workflowId, runId)],
    ["getStep", () => store.getStep(workflowId, runId, 0)],
    ["getLatestStep", () => store.getLatestStep(workflowId, runId)],
    ["listSteps", () => store.listSteps(workflowId, runId)],
    ["deleteRun", () => store.deleteRun(workflowId, runId)],
  ];
}

export function idsSuite(h: Harness): void {
  describe("hostile ids", () => {
    it("the longest allowed id works on every method; one more character is INVALID_ID on every method", async () => {
      const store = await h.open();
      const tag = h.workflowId("max");
      const longest = tag + "x".repeat(MAX_ID_LENGTH - tag.length);
      h.cleanUpWorkflow(longest);
      const runId = "r".repeat(MAX_ID_LENGTH);
      for (const [, call] of idCalls(store, longest, runId).slice(0, 6)) await call();
      expect((await store.listRuns(longest)).items.map((run) => run.runId)).toEqual([runId]);
      const tooLong = `${runId}r`;
      for (const [workflowId, id] of [
        [longest, tooLong],
        [`${longest}x`, runId],
      ] as const) {
        for (const [name, call] of idCalls(store, workflowId, id)) {
          expect(
            (await rejection(call())).code,
            `${name}(${workflowId.length}, ${id.length})`,
          ).toBe("INVALID_ID");
        }
      }
      expect((await rejection(store.listRuns(`${longest}x`))).code).toBe("INVALID_ID");
      await store.deleteRun(longest, runId);
    });

    it("ids outside the rule are INVALID_ID on every method, as workflow id and as run id", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("outside");
      const runId = await seedRun(store, workflowId, 0);
      for (const bad of JUST_OUTSIDE) {
        expect(isValidId(bad)).toBe(false);
        for (const [name, call] of [
          ...idCalls(store, workflowId, bad),
          ...idCalls(store, bad, runId),
          ["listRuns", () => store.listRuns(bad)] as [string, () => Promise<unknown>],
        ]) {
          expect(
            (await rejection(call())).code,
            `${name} with ${JSON.stringify(bad.slice(0, 20))}`,
          ).toBe("INVALID_ID");
        }
      }
      expect((await store.getRun(workflowId, runId)).headStep).toBe(0);
    });

    it("each hostile run id is refused with INVALID_ID exactly when the id rule refuses it, else kept verbatim as its own run", async () => {
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
          expect(isValidId(runId), JSON.stringify(runId)).toBe(false);
          continue;
        }
        expect(isValidId(runId), JSON.stringify(runId)).toBe(true);
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

    it("each hostile workflow id is refused with INVALID_ID exactly when the id rule refuses it", async () => {
      const store = await h.open();
      const prefix = h.workflowId("hostile-wf");
      const candidates = HOSTILE_IDS.flatMap((hostile) =>
        hostile ? [`${prefix}${hostile}`, hostile] : [hostile],
      );
      for (const workflowId of candidates) {
        h.cleanUpWorkflow(workflowId);
        let runId: string;
        try {
          runId = await seedRun(store, workflowId, 0);
        } catch (error) {
          expect((error as { code?: string }).code, JSON.stringify(workflowId)).toBe("INVALID_ID");
          expect(isValidId(workflowId), JSON.stringify(workflowId)).toBe(false);
          continue;
        }
        expect(isValidId(workflowId), JSON.stringify(workflowId)).toBe(true);
        const runs = await store.listRuns(workflowId);
        expect(runs.items.map((r) => [r.workflowId, r.runId])).toContainEqual([workflowId, runId]);
        expect(runs.items.every((r) => r.workflowId === workflowId)).toBe(true);
      }
      expect((await store.listRuns(prefix)).items).toEqual([]);
    });

    it("ids differing only in case, or in characters an encoding might fold, are different runs", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("case");
      const ids = ["Run", "run", "RUN", "a.b", "a_b", "a-b", "a__b", "a-_b", "_a", ".a"];
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
