// Listing options checked before any query: a cursor the store did not hand
// out is INVALID_CURSOR on every listing, including positions the columns
// cannot hold, and a status outside the run statuses is a TypeError. A
// status-filtered page reads a bounded number of runs.
import type { RunStatus } from "@wf/core";
import { encodeCursor } from "@wf/core/storage";
import { collectPages } from "@wf/storage-conformance";
import { afterAll, describe, expect, it } from "vitest";
import { PostgresStorage } from "../src/index.js";
import { postgresUrl, rejection, sampleRun, seedRun, testSchema, withSql } from "./helpers.js";

const schema = testSchema("listing");
const storage = new PostgresStorage({ connectionString: postgresUrl(), schema });

afterAll(() => storage.close());

describe("listing options", () => {
  it("a forged cursor is INVALID_CURSOR, including step numbers past the integer column and text PostgreSQL cannot hold", async () => {
    const workflowId = "forged";
    const runId = await seedRun(storage, workflowId, 2);
    const forged: [string, (cursor: string) => Promise<unknown>, string[]][] = [
      [
        "listSteps",
        (cursor) => storage.listSteps(workflowId, runId, { cursor }),
        [encodeCursor(2 ** 31), encodeCursor(2 ** 40), encodeCursor(-5), encodeCursor(1.5)],
      ],
      [
        "listRuns",
        (cursor) => storage.listRuns(workflowId, { cursor }),
        [
          encodeCursor(["2026-01-01T00:00:00.000Z", "a\u0000b"]),
          encodeCursor(["\ud800", "run"]),
          encodeCursor(["2026-01-01T00:00:00.000Z"]),
        ],
      ],
      ["listWorkflows", (cursor) => storage.listWorkflows({ cursor }), [encodeCursor("a\u0000")]],
    ];
    for (const [name, list, cursors] of forged) {
      for (const cursor of [...cursors, "garbage!", encodeCursor({ x: 1 })]) {
        const error = await rejection(list(cursor));
        expect(error.code, `${name} ${cursor}`).toBe("INVALID_CURSOR");
      }
    }
  });

  it("listRuns with a status outside the run statuses is a TypeError, not an empty page", async () => {
    const workflowId = "bogus-status";
    await seedRun(storage, workflowId, 0);
    for (const status of ["bogus", "Running", ""]) {
      const error = await rejection(storage.listRuns(workflowId, { status: status as RunStatus }));
      expect(error, status).toBeInstanceOf(TypeError);
    }
  });

  it("a status-filtered page reads at most 1,000 runs, so matches far apart end pages early with a cursor", async () => {
    const workflowId = "sparse";
    // 1,500 running runs, newest first, then the only failed one, oldest of all.
    await withSql(async (sql) => {
      const runIds = Array.from({ length: 1501 }, (_, i) => `run-${String(i).padStart(4, "0")}`);
      const runs = runIds.map((runId, i) =>
        sampleRun(workflowId, runId, {
          createdAt: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
          status: i === 0 ? "failed" : "running",
        }),
      );
      await sql.query(
        `INSERT INTO "${schema}".runs (workflow_id, run_id, created_at, updated_at, status, head_step, metadata)
         SELECT $1, run_id, created_at, created_at, status, 0, metadata
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS t(run_id, created_at, status, metadata)`,
        [
          workflowId,
          runs.map((run) => run.runId),
          runs.map((run) => run.createdAt),
          runs.map((run) => run.status),
          runs.map((run) => JSON.stringify(run)),
        ],
      );
    });
    const first = await storage.listRuns(workflowId, { status: "failed", limit: 10 });
    expect(first.items).toEqual([]);
    expect(first.nextCursor).not.toBeNull();
    const second = await storage.listRuns(workflowId, {
      status: "failed",
      limit: 10,
      cursor: first.nextCursor,
    });
    expect(second.items.map((run) => run.runId)).toEqual(["run-0000"]);
    expect(second.nextCursor).toBeNull();
    const running = await collectPages((cursor) =>
      storage.listRuns(workflowId, { status: "running", cursor, limit: 1000 }),
    );
    expect(running).toHaveLength(1500);
  });
});
