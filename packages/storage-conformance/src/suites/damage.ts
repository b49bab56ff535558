/**
 * Damaged records, made behind the store's back through the adapter's
 * `damage` hook: every record read is checked against the journal format, a
 * damaged one is CORRUPT_RECORD naming where it lives, a missing step below
 * the head is damage too, a listing reports a damaged run beside the healthy
 * ones, and a damaged run can still be deleted. Nothing else changes.
 */
import { WorkflowEngine } from "@wf/core";
import { describe, expect, it } from "vitest";
import {
  collectPages,
  type Harness,
  rejection,
  sampleRun,
  sampleStep,
  seedRun,
  snapshotRun,
} from "../harness.js";
import { linear } from "../workflows.js";

/** A step record with one field damaged, as JSON text. */
function mutatedStep(
  workflowId: string,
  runId: string,
  step: number,
  mutate: (record: Record<string, unknown>) => void,
): string {
  const record = sampleStep(workflowId, runId, step) as unknown as Record<string, unknown>;
  mutate(record);
  return JSON.stringify(record);
}

const STEP_DAMAGE: [string, (record: Record<string, unknown>) => void][] = [
  ["shared is a string", (r) => Object.assign(r, { shared: "oops" })],
  ["nodeStatuses is null", (r) => Object.assign(r, { nodeStatuses: null })],
  ["a node status outside the enum", (r) => Object.assign(r, { nodeStatuses: { a: "done" } })],
  ["status outside the enum", (r) => Object.assign(r, { status: "bogus" })],
  ["the step number is a string", (r) => Object.assign(r, { step: "2" })],
  ["parent is not below the step", (r) => Object.assign(r, { parent: 7 })],
  ["failed without an error", (r) => Object.assign(r, { status: "failed" })],
  ["cancelled without its reason", (r) => Object.assign(r, { status: "cancelled" })],
  ["another run's id", (r) => Object.assign(r, { runId: "someone-else" })],
  ["a format version from the future", (r) => Object.assign(r, { formatVersion: 99 })],
  ["inputs missing", (r) => delete r.inputs],
];

export function damageSuite(h: Harness): void {
  const damage = h.damage;
  const describeDamage = damage ? describe : describe.skip;

  describeDamage(
    `damaged records${damage ? "" : " (skipped: the adapter gave no damage hook)"}`,
    () => {
      const hook = damage as NonNullable<typeof damage>;

      it("a step record that is not JSON is CORRUPT_RECORD naming its location", async () => {
        const store = await h.open();
        const workflowId = h.workflowId("torn-step");
        const runId = await seedRun(store, workflowId, 3);
        await hook({ workflowId, runId, record: 2 }, '{"formatVersion":1,"workf');
        const error = await rejection(store.getStep(workflowId, runId, 2));
        expect(error.code).toBe("CORRUPT_RECORD");
        expect((error as { location?: unknown }).location).toEqual(expect.any(String));
        expect(String((error as { location?: unknown }).location).length).toBeGreaterThan(0);
        expect((await store.getStep(workflowId, runId, 1)).shared).toEqual({ step: 1 });
      });

      for (const [what, mutate] of STEP_DAMAGE) {
        it(`a step record where ${what} is CORRUPT_RECORD`, async () => {
          const store = await h.open();
          const workflowId = h.workflowId("bad-field");
          const runId = await seedRun(store, workflowId, 2);
          await hook({ workflowId, runId, record: 2 }, mutatedStep(workflowId, runId, 2, mutate));
          expect((await rejection(store.getStep(workflowId, runId, 2))).code).toBe(
            "CORRUPT_RECORD",
          );
          expect((await rejection(store.getLatestStep(workflowId, runId))).code).toBe(
            "CORRUPT_RECORD",
          );
          const listing = await rejection(
            collectPages((cursor) => store.listSteps(workflowId, runId, { cursor })),
          );
          expect(listing.code).toBe("CORRUPT_RECORD");
        });
      }

      it("a head record that holds another step number is CORRUPT_RECORD, and appends go on from the real head", async () => {
        const store = await h.open();
        const workflowId = h.workflowId("wrong-step");
        const runId = await seedRun(store, workflowId, 4);
        await hook(
          { workflowId, runId, record: 4 },
          JSON.stringify(sampleStep(workflowId, runId, 9)),
        );
        expect((await rejection(store.getLatestStep(workflowId, runId))).code).toBe(
          "CORRUPT_RECORD",
        );
        expect((await rejection(store.getStep(workflowId, runId, 4))).code).toBe("CORRUPT_RECORD");
        expect((await store.getRun(workflowId, runId)).headStep).toBe(4);
        const skipped = await rejection(store.appendStep(sampleStep(workflowId, runId, 10)));
        expect(skipped.code).toBe("STEP_CONFLICT");
      });

      it("a damaged head stops the engine from opening the run with CORRUPT_RECORD, writing nothing", async () => {
        const store = await h.open();
        const workflowId = h.workflowId("engine-damaged");
        const engine = await WorkflowEngine.create({ workflowId, storage: store, ...linear(2) });
        await engine.step();
        const { runId } = engine;
        await hook(
          { workflowId, runId, record: 1 },
          mutatedStep(workflowId, runId, 1, (r) => Object.assign(r, { shared: "oops" })),
        );
        const error = await rejection(
          WorkflowEngine.create({ workflowId, storage: store, runId, ...linear(2) }),
        );
        expect(error.code).toBe("CORRUPT_RECORD");
        expect((await store.getRun(workflowId, runId)).headStep).toBe(1);
      });

      it("run metadata that is an empty object is CORRUPT_RECORD, not INVALID_ID", async () => {
        const store = await h.open();
        const workflowId = h.workflowId("empty-meta");
        const runId = await seedRun(store, workflowId, 1);
        await hook({ workflowId, runId, record: "metadata" }, "{}");
        const error = await rejection(store.getRun(workflowId, runId));
        expect(error.code).toBe("CORRUPT_RECORD");
        expect((error as { location?: unknown }).location).toEqual(expect.any(String));
      });

      it("run metadata with a status outside the enum is CORRUPT_RECORD", async () => {
        const store = await h.open();
        const workflowId = h.workflowId("bogus-meta");
        const runId = await seedRun(store, workflowId, 0);
        await hook(
          { workflowId, runId, record: "metadata" },
          JSON.stringify({ ...sampleRun(workflowId, runId), status: "bogus" }),
        );
        expect((await rejection(store.getRun(workflowId, runId))).code).toBe("CORRUPT_RECORD");
      });

      it("a missing step below the head is CORRUPT_RECORD; a step above the head is STEP_NOT_FOUND", async () => {
        const store = await h.open();
        const workflowId = h.workflowId("missing-middle");
        const runId = await seedRun(store, workflowId, 3);
        await hook({ workflowId, runId, record: 1 }, null);
        expect((await rejection(store.getStep(workflowId, runId, 1))).code).toBe("CORRUPT_RECORD");
        const listing = await rejection(
          collectPages((cursor) => store.listSteps(workflowId, runId, { cursor })),
        );
        expect(listing.code).toBe("CORRUPT_RECORD");
        expect((await rejection(store.getStep(workflowId, runId, 7))).code).toBe("STEP_NOT_FOUND");
        expect((await store.getStep(workflowId, runId, 2)).shared).toEqual({ step: 2 });
      });

      it("listRuns lists the healthy runs and reports a damaged run beside them, under any status filter", async () => {
        const store = await h.open();
        const workflowId = h.workflowId("list-damaged");
        const healthy = [
          await seedRun(store, workflowId, 1),
          await seedRun(store, workflowId, 2),
          await seedRun(store, workflowId, 0),
        ];
        const damaged = await seedRun(store, workflowId, 1);
        await hook({ workflowId, runId: damaged, record: "metadata" }, "not json at all");
        for (const status of [undefined, "running", "completed"] as const) {
          const runs: string[] = [];
          const reported: { runId: string; location: string; reason: string }[] = [];
          let cursor: string | null = null;
          do {
            const page = await store.listRuns(workflowId, { cursor, limit: 2, status });
            runs.push(...page.items.map((run) => run.runId));
            reported.push(...page.damaged);
            cursor = page.nextCursor;
          } while (cursor);
          expect(runs.sort()).toEqual(status === "completed" ? [] : [...healthy].sort());
          expect(reported.map((d) => d.runId)).toEqual([damaged]);
          expect(reported[0]?.location).toEqual(expect.any(String));
          expect(reported[0]?.reason).toEqual(expect.any(String));
        }
      });

      it("deleteRun removes a run whose metadata or head is damaged", async () => {
        const store = await h.open();
        const workflowId = h.workflowId("delete-damaged");
        const kept = await seedRun(store, workflowId, 2);
        const before = await snapshotRun(store, workflowId, kept);
        const badMeta = await seedRun(store, workflowId, 2);
        const badHead = await seedRun(store, workflowId, 2);
        await hook({ workflowId, runId: badMeta, record: "metadata" }, "{}");
        await hook({ workflowId, runId: badHead, record: 2 }, "garbage");
        await store.deleteRun(workflowId, badMeta);
        await store.deleteRun(workflowId, badHead);
        for (const runId of [badMeta, badHead]) {
          expect((await rejection(store.getRun(workflowId, runId))).code).toBe("RUN_NOT_FOUND");
        }
        const page = await store.listRuns(workflowId);
        expect(page.items.map((run) => run.runId)).toEqual([kept]);
        expect(page.damaged).toEqual([]);
        expect(await snapshotRun(store, workflowId, kept)).toBe(before);
      });
    },
  );
}
