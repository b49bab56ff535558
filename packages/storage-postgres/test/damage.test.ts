// Rows damaged behind the store's back (by hand, by another program, by a
// bad restore): every record read is checked, damage is CORRUPT_RECORD naming
// `schema.table` and the row's key, nothing is appended on top of it, listings
// report a damaged run beside the healthy ones, and deleteRun removes it.
import { type RunStatus, WorkflowEngine } from "@wf/core";
import { afterAll, describe, expect, it } from "vitest";
import { PostgresStorage } from "../src/index.js";
import { ticker } from "./fixtures/ticker.mjs";
import {
  allSteps,
  damageRecord,
  postgresUrl,
  rejection,
  sampleRun,
  sampleStep,
  seedRun,
  testSchema,
  withSql,
} from "./helpers.js";

const schema = testSchema("damage");
const storage = new PostgresStorage({ connectionString: postgresUrl(), schema });

afterAll(() => storage.close());

function runKey(workflowId: string, runId: string): string {
  return `${schema}.runs (workflow_id ${JSON.stringify(workflowId)}, run_id ${JSON.stringify(runId)})`;
}

function stepKey(workflowId: string, runId: string, step: number): string {
  return `${schema}.steps (workflow_id ${JSON.stringify(workflowId)}, run_id ${JSON.stringify(runId)}, step ${step})`;
}

async function storedSteps(workflowId: string, runId: string): Promise<number[]> {
  return withSql(async (sql) => {
    const { rows } = await sql.query<{ step: number }>(
      `SELECT step FROM "${schema}".steps WHERE workflow_id = $1 AND run_id = $2 ORDER BY step`,
      [workflowId, runId],
    );
    return rows.map((row) => row.step);
  });
}

async function runRow(workflowId: string, runId: string): Promise<Record<string, unknown>> {
  return withSql(async (sql) => {
    const { rows } = await sql.query(
      `SELECT head_step, status FROM "${schema}".runs WHERE workflow_id = $1 AND run_id = $2`,
      [workflowId, runId],
    );
    return rows[0] as Record<string, unknown>;
  });
}

async function setColumn(workflowId: string, runId: string, assignment: string): Promise<void> {
  await withSql((sql) =>
    sql.query(`UPDATE "${schema}".runs SET ${assignment} WHERE workflow_id = $1 AND run_id = $2`, [
      workflowId,
      runId,
    ]),
  );
}

describe("damaged records", () => {
  it("a head record that says it is step 9 is CORRUPT_RECORD naming its row, and the engine appends nothing on top of it", async () => {
    const workflowId = "head-says-nine";
    const engine = await WorkflowEngine.create({ ...ticker(workflowId, 100), storage });
    for (let i = 0; i < 4; i++) await engine.step();
    const { runId } = engine;
    const head = await storage.getStep(workflowId, runId, 4);
    await damageRecord(
      schema,
      { workflowId, runId, record: 4 },
      JSON.stringify({ ...head, step: 9, parent: 8 }),
    );

    const error = await rejection(storage.getLatestStep(workflowId, runId));
    expect(error.code).toBe("CORRUPT_RECORD");
    expect((error as { location?: string }).location).toBe(stepKey(workflowId, runId, 4));
    expect(error.message).toContain(`${schema}.steps`);
    expect((await rejection(storage.getStep(workflowId, runId, 4))).code).toBe("CORRUPT_RECORD");

    const opened = await rejection(
      WorkflowEngine.create({ ...ticker(workflowId, 100), storage, runId }),
    );
    expect(opened.code).toBe("CORRUPT_RECORD");
    expect(await storedSteps(workflowId, runId)).toEqual([0, 1, 2, 3, 4]);
    expect(await runRow(workflowId, runId)).toEqual({ head_step: 4, status: "running" });
  });

  it("run metadata that is an empty object is CORRUPT_RECORD naming the run's row, for the store and the engine, not INVALID_ID", async () => {
    const workflowId = "empty-metadata";
    const engine = await WorkflowEngine.create({ ...ticker(workflowId, 100), storage });
    await engine.step();
    const { runId } = engine;
    await damageRecord(schema, { workflowId, runId, record: "metadata" }, "{}");

    const error = await rejection(storage.getRun(workflowId, runId));
    expect(error.code).toBe("CORRUPT_RECORD");
    expect((error as { location?: string }).location).toContain(runKey(workflowId, runId));
    const opened = await rejection(
      WorkflowEngine.create({ ...ticker(workflowId, 100), storage, runId }),
    );
    expect(opened.code).toBe("CORRUPT_RECORD");
    expect(await storedSteps(workflowId, runId)).toEqual([0, 1]);
  });

  it("damaged bookkeeping columns of the run row (a status outside the enum, a head_step pointing nowhere) are CORRUPT_RECORD naming the row", async () => {
    const workflowId = "damaged-columns";
    const badStatus = await seedRun(storage, workflowId, 2);
    await setColumn(workflowId, badStatus, "status = 'bogus'");
    const status = await rejection(storage.getRun(workflowId, badStatus));
    expect(status.code).toBe("CORRUPT_RECORD");
    expect((status as { location?: string }).location).toContain(runKey(workflowId, badStatus));
    expect(status.message).toContain("bogus");

    const badHead = await seedRun(storage, workflowId, 2);
    await setColumn(workflowId, badHead, "head_step = -1");
    expect((await rejection(storage.getRun(workflowId, badHead))).code).toBe("CORRUPT_RECORD");
    expect((await rejection(storage.getLatestStep(workflowId, badHead))).code).toBe(
      "CORRUPT_RECORD",
    );
  });

  it("a step missing between the run's first step and its head is CORRUPT_RECORD on getStep and listSteps; outside that range it is STEP_NOT_FOUND", async () => {
    const workflowId = "missing-steps";
    const holed = await seedRun(storage, workflowId, 3);
    await damageRecord(schema, { workflowId, runId: holed, record: 1 }, null);
    const missing = await rejection(storage.getStep(workflowId, holed, 1));
    expect(missing.code).toBe("CORRUPT_RECORD");
    expect((missing as { location?: string }).location).toBe(stepKey(workflowId, holed, 1));
    expect((await rejection(allSteps(storage, workflowId, holed))).code).toBe("CORRUPT_RECORD");
    // Paging past the hole still finds it: the page after step 0 must start at step 1.
    const first = await storage.listSteps(workflowId, holed, { limit: 1 });
    expect(first.items.map((s) => s.step)).toEqual([0]);
    const next = await rejection(
      storage.listSteps(workflowId, holed, { cursor: first.nextCursor, limit: 1 }),
    );
    expect(next.code).toBe("CORRUPT_RECORD");
    expect((await rejection(storage.getStep(workflowId, holed, 4))).code).toBe("STEP_NOT_FOUND");

    // The head's own record gone: the last page cannot end below the head.
    const headless = await seedRun(storage, workflowId, 3);
    await damageRecord(schema, { workflowId, runId: headless, record: 3 }, null);
    const listing = await rejection(allSteps(storage, workflowId, headless));
    expect(listing.code).toBe("CORRUPT_RECORD");
    expect((listing as { location?: string }).location).toBe(stepKey(workflowId, headless, 3));

    // A fork from step 5 stores steps 5.. only: below 5 is STEP_NOT_FOUND, a hole above is damage.
    const fork = "fork-from-5";
    await storage.createRun(
      sampleRun(workflowId, fork, { headStep: 5, forkedFrom: { runId: holed, step: 5 } }),
      sampleStep(workflowId, fork, 5),
    );
    await storage.appendStep(sampleStep(workflowId, fork, 6));
    await storage.appendStep(sampleStep(workflowId, fork, 7));
    expect((await rejection(storage.getStep(workflowId, fork, 2))).code).toBe("STEP_NOT_FOUND");
    expect((await allSteps(storage, workflowId, fork)).map((s) => s.step)).toEqual([5, 6, 7]);
    await damageRecord(schema, { workflowId, runId: fork, record: 6 }, null);
    expect((await rejection(storage.getStep(workflowId, fork, 6))).code).toBe("CORRUPT_RECORD");
    expect((await rejection(allSteps(storage, workflowId, fork))).code).toBe("CORRUPT_RECORD");
    expect((await rejection(storage.getStep(workflowId, fork, 4))).code).toBe("STEP_NOT_FOUND");
  });
});

describe("listing and deleting damaged runs", () => {
  it("listRuns reports each damaged run exactly once, whatever its status column and the status filter, and pages the healthy runs around it", async () => {
    const workflowId = "list-around-damage";
    const statuses: RunStatus[] = [
      "running",
      "failed",
      "completed",
      "running",
      "failed",
      "completed",
    ];
    const runs: { runId: string; status: RunStatus }[] = [];
    for (const [i, status] of statuses.entries()) {
      const runId = `run-${i}`;
      const createdAt = new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
      await storage.createRun(
        sampleRun(workflowId, runId, { createdAt }),
        sampleStep(workflowId, runId, 0),
      );
      if (status !== "running") {
        await storage.appendStep(sampleStep(workflowId, runId, 1, { status }));
      }
      runs.push({ runId, status });
    }
    // run-1 (failed) loses its metadata, run-2 (completed) gets a status the enum lacks.
    await damageRecord(schema, { workflowId, runId: "run-1", record: "metadata" }, "not json");
    await setColumn(workflowId, "run-2", "status = 'bogus'");
    const damaged = ["run-1", "run-2"];

    for (const status of [
      undefined,
      "running",
      "failed",
      "completed",
      "waiting_for_input",
    ] as const) {
      for (const limit of [1, 2, 100]) {
        const listed: string[] = [];
        const reported: { runId: string; location: string }[] = [];
        let cursor: string | null = null;
        do {
          const page = await storage.listRuns(workflowId, { status, limit, cursor });
          expect(page.items.length).toBeLessThanOrEqual(limit);
          listed.push(...page.items.map((run) => run.runId));
          reported.push(...page.damaged);
          cursor = page.nextCursor;
        } while (cursor !== null);
        const healthy = runs
          .filter((run) => !damaged.includes(run.runId))
          .filter((run) => status === undefined || run.status === status)
          .map((run) => run.runId)
          .reverse();
        const context = `status ${status}, limit ${limit}`;
        expect(listed, context).toEqual(healthy);
        expect(reported.map((d) => d.runId).sort(), context).toEqual(damaged);
        expect(reported.find((d) => d.runId === "run-1")?.location).toContain(
          runKey(workflowId, "run-1"),
        );
      }
    }
  });

  it("deleteRun removes a run whose metadata or head is damaged, with every step row", async () => {
    const workflowId = "delete-damaged";
    const kept = await seedRun(storage, workflowId, 2);
    const badMetadata = await seedRun(storage, workflowId, 2);
    const badHead = await seedRun(storage, workflowId, 2);
    await damageRecord(schema, { workflowId, runId: badMetadata, record: "metadata" }, "{}");
    await damageRecord(schema, { workflowId, runId: badHead, record: 2 }, null);
    await storage.deleteRun(workflowId, badMetadata);
    await storage.deleteRun(workflowId, badHead);
    const left = await withSql(async (sql) => {
      const runsLeft = await sql.query(
        `SELECT run_id FROM "${schema}".runs WHERE workflow_id = $1`,
        [workflowId],
      );
      const stepsLeft = await sql.query(
        `SELECT DISTINCT run_id FROM "${schema}".steps WHERE workflow_id = $1`,
        [workflowId],
      );
      return [runsLeft.rows, stepsLeft.rows];
    });
    expect(left).toEqual([[{ run_id: kept }], [{ run_id: kept }]]);
  });
});
