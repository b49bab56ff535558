/**
 * Listings: steps ascending, runs of a workflow newest first with a status
 * filter, workflows ascending; every listing pages with an opaque cursor and
 * returns each item exactly once.
 */
import { RUN_STATUSES, type RunStatus } from "@wf/core";
import { encodeCursor, MAX_PAGE_SIZE } from "@wf/core/storage";
import { describe, expect, it } from "vitest";
import {
  collectPages,
  type Harness,
  rejection,
  sampleRun,
  sampleStep,
  seedRun,
  uniqueRunId,
} from "../harness.js";

export function listingSuite(h: Harness): void {
  describe("listing", () => {
    it("listSteps returns every step ascending across pages, each once", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("list-steps");
      const runId = await seedRun(store, workflowId, 24);
      const pages: number[][] = [];
      let cursor: string | null = null;
      do {
        const page = await store.listSteps(workflowId, runId, { cursor, limit: 7 });
        pages.push(page.items.map((record) => record.step));
        cursor = page.nextCursor;
      } while (cursor !== null && pages.length < 10);
      expect(pages.flat()).toEqual(Array.from({ length: 25 }, (_, i) => i));
      expect(pages.every((page) => page.length <= 7)).toBe(true);
      expect(pages).toHaveLength(4);
    });

    it("listSteps of a run that starts at step k lists only the steps it stores", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("list-steps-fork");
      const runId = uniqueRunId();
      await store.createRun(
        sampleRun(workflowId, runId, { headStep: 5, forkedFrom: { runId: "src", step: 5 } }),
        sampleStep(workflowId, runId, 5),
      );
      await store.appendStep(sampleStep(workflowId, runId, 6));
      const steps = await collectPages(
        (cursor) => store.listSteps(workflowId, runId, { cursor, limit: 1 }),
        1,
      );
      expect(steps.map((s) => s.step)).toEqual([5, 6]);
    });

    it("listRuns returns a workflow's runs newest first, across pages, each once", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("list-runs");
      const other = h.workflowId("list-runs-other");
      const created: string[] = [];
      for (let i = 0; i < 12; i++) {
        const runId = uniqueRunId();
        const createdAt = new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
        await store.createRun(
          sampleRun(workflowId, runId, { createdAt }),
          sampleStep(workflowId, runId, 0),
        );
        created.push(runId);
      }
      await seedRun(store, other, 0);
      const runs = await collectPages(
        (cursor) => store.listRuns(workflowId, { cursor, limit: 5 }),
        5,
      );
      expect(runs.map((r) => r.runId)).toEqual([...created].reverse());
      expect(runs.every((r) => r.workflowId === workflowId)).toBe(true);
    });

    it("listRuns orders runs created in the same millisecond by run id, descending", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("list-runs-tie");
      const ids = ["run-a", "run-c", "run-b"];
      for (const runId of ids) {
        await store.createRun(sampleRun(workflowId, runId), sampleStep(workflowId, runId, 0));
      }
      const runs = await collectPages(
        (cursor) => store.listRuns(workflowId, { cursor, limit: 2 }),
        2,
      );
      expect(runs.map((r) => r.runId)).toEqual(["run-c", "run-b", "run-a"]);
    });

    it("listRuns filters by the status of each run's head, as appends change it", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("list-status");
      const statuses: RunStatus[] = [
        "running",
        "completed",
        "failed",
        "waiting_for_input",
        "completed",
        "cancelled",
      ];
      const byStatus = new Map<RunStatus, string[]>();
      for (const [i, status] of statuses.entries()) {
        const runId = uniqueRunId();
        const createdAt = new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
        await store.createRun(
          sampleRun(workflowId, runId, { createdAt }),
          sampleStep(workflowId, runId, 0),
        );
        if (status !== "running")
          await store.appendStep(sampleStep(workflowId, runId, 1, { status }));
        byStatus.set(status, [runId, ...(byStatus.get(status) ?? [])]);
      }
      for (const status of RUN_STATUSES) {
        const runs = await collectPages(
          (cursor) => store.listRuns(workflowId, { status, cursor, limit: 1 }),
          1,
        );
        expect(
          runs.map((r) => r.runId),
          status,
        ).toEqual(byStatus.get(status));
        expect(runs.every((r) => r.status === status)).toBe(true);
      }
      const all = await collectPages((cursor) => store.listRuns(workflowId, { cursor }));
      expect(all).toHaveLength(statuses.length);
    });

    it("listRuns of a workflow without runs is empty", async () => {
      const store = await h.open();
      const page = await store.listRuns(h.workflowId("no-runs"));
      expect(page).toEqual({ items: [], nextCursor: null, damaged: [] });
    });

    it("listWorkflows lists every workflow with a run once, ascending", async () => {
      const store = await h.open();
      const ids = [h.workflowId("wf-b"), h.workflowId("wf-a"), h.workflowId("wf-c")];
      for (const workflowId of ids) await seedRun(store, workflowId, 0);
      await seedRun(store, ids[0] as string, 0);
      const listed = await collectPages((cursor) => store.listWorkflows({ cursor, limit: 2 }), 2);
      expect(new Set(listed).size).toBe(listed.length);
      expect([...listed].sort()).toEqual(listed);
      for (const id of ids) expect(listed).toContain(id);
    });

    it("a cursor the store did not hand out is INVALID_CURSOR on every listing", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("forged-cursor");
      const runId = await seedRun(store, workflowId, 3);
      await seedRun(store, workflowId, 0);
      const stepCursor = (await store.listSteps(workflowId, runId, { limit: 1 })).nextCursor;
      const runCursor = (await store.listRuns(workflowId, { limit: 1 })).nextCursor;
      const workflowCursor = (await store.listWorkflows({ limit: 1 })).nextCursor;
      expect([stepCursor, runCursor]).not.toContain(null);
      const forged = ["garbage!", "%%%", encodeCursor({ forged: true }), encodeCursor(null), "e30"];
      const listings: [string, (cursor: unknown) => Promise<unknown>, string | null][] = [
        [
          "listSteps",
          (c) => store.listSteps(workflowId, runId, { cursor: c as string }),
          runCursor,
        ],
        ["listRuns", (c) => store.listRuns(workflowId, { cursor: c as string }), stepCursor],
        ["listWorkflows", (c) => store.listWorkflows({ cursor: c as string }), stepCursor],
      ];
      for (const [name, list, foreign] of listings) {
        for (const cursor of [...forged, 42, { x: 1 }, foreign]) {
          const error = await rejection(list(cursor));
          expect(error.code, `${name} with cursor ${JSON.stringify(cursor)}`).toBe(
            "INVALID_CURSOR",
          );
        }
      }
      expect(workflowCursor === null || typeof workflowCursor === "string").toBe(true);
    });

    it("listRuns with a status outside the run statuses is a TypeError; a bad limit is a RangeError", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("bad-options");
      const runId = await seedRun(store, workflowId, 1);
      for (const status of ["bogus", "", "RUNNING", 3]) {
        const error = await rejection(store.listRuns(workflowId, { status: status as RunStatus }));
        expect(error, String(status)).toBeInstanceOf(TypeError);
      }
      for (const limit of [0, -1, 1.5, Number.NaN, "10"]) {
        const bad = { limit: limit as number };
        expect(await rejection(store.listRuns(workflowId, bad)), String(limit)).toBeInstanceOf(
          RangeError,
        );
        expect(await rejection(store.listSteps(workflowId, runId, bad))).toBeInstanceOf(RangeError);
        expect(await rejection(store.listWorkflows(bad))).toBeInstanceOf(RangeError);
      }
    });

    // Over a thousand appends: a store with a round trip per append needs more than the default time.
    it(`a limit above MAX_PAGE_SIZE is capped: a limit of 5,000 returns at most ${MAX_PAGE_SIZE} items a page, on every listing`, async () => {
      const store = await h.open();
      const workflowId = h.workflowId("over-limit");
      const total = MAX_PAGE_SIZE + 5;
      const runId = await seedRun(store, workflowId, total - 1);
      const limit = 5 * MAX_PAGE_SIZE;
      const first = await store.listSteps(workflowId, runId, { limit });
      expect(first.items.length).toBeLessThanOrEqual(MAX_PAGE_SIZE);
      const steps = await collectPages(
        (cursor) => store.listSteps(workflowId, runId, { cursor, limit }),
        MAX_PAGE_SIZE,
      );
      expect(steps.map((s) => s.step)).toEqual(Array.from({ length: total }, (_, i) => i));
      const runs = await collectPages(
        (cursor) => store.listRuns(workflowId, { cursor, limit }),
        MAX_PAGE_SIZE,
      );
      expect(runs.map((r) => r.runId)).toEqual([runId]);
      const workflows = await collectPages(
        (cursor) => store.listWorkflows({ cursor, limit }),
        MAX_PAGE_SIZE,
      );
      expect(workflows).toContain(workflowId);
    }, 240_000);
  });
}
