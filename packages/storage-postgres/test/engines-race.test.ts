// Several engines on one run across processes: two child processes, each with
// eight engines resuming the same run and reopening it after STEP_CONFLICT,
// advance it to 60 steps with every step present exactly once, in one chain.
// The race is forced, not hoped for: each child warms its pool and opens all
// its engines before reporting ready, and the test starts them only once
// every child is ready, so all sixteen engines contest step 1.
import { WorkflowEngine } from "@wf/core";
import { afterAll, describe, expect, it } from "vitest";
import { PostgresStorage } from "../src/index.js";
import { ticker } from "./fixtures/ticker.mjs";
import { allSteps, Fixture, postgresUrl, testSchema, withSql } from "./helpers.js";

const TARGET = 60;
const ENGINES_PER_PROCESS = 8;

describe("engines racing on one run from two processes", () => {
  const connectionString = postgresUrl();
  const schema = testSchema("engines_race");
  const storage = new PostgresStorage({ connectionString, schema });
  afterAll(() => storage.close());

  it(`two processes with ${ENGINES_PER_PROCESS} engines each take the run to step ${TARGET}, each step once, parents forming one chain`, async () => {
    const workflowId = "engines-race";
    const engine = await WorkflowEngine.create({ ...ticker(workflowId, TARGET), storage });
    const args = [
      connectionString,
      schema,
      workflowId,
      engine.runId,
      String(TARGET),
      String(ENGINES_PER_PROCESS),
    ];
    const children = ["a", "b"].map((tag) => new Fixture("racing-engines.mjs", [...args, tag]));
    // The barrier: every child's engines hold head 0 before any of them appends.
    const ready = await Promise.all(children.map((child) => child.waitForLines(1, 60_000)));
    expect(ready.map((lines) => lines[0])).toEqual(["ready 0", "ready 0"]);
    for (const child of children) child.send("go");
    const outputs = await Promise.all(children.map((child) => child.finished(90_000)));
    const reports = outputs.map(
      (lines) => JSON.parse(lines.at(-1) as string) as { appended: number; conflicts: number },
    );
    // Every append an engine saw succeed is a step in the journal, and no more.
    expect(reports.reduce((total, report) => total + report.appended, 0)).toBe(TARGET);
    // The race was real: all sixteen engines tried to append step 1 on head 0, so
    // one won and every other engine met STEP_CONFLICT at least once. Which process
    // won, and how the rest of the run was shared, is left to scheduling and not asserted.
    for (const report of reports) {
      expect(report.conflicts).toBeGreaterThanOrEqual(ENGINES_PER_PROCESS - 1);
    }
    expect(reports.reduce((total, report) => total + report.conflicts, 0)).toBeGreaterThanOrEqual(
      2 * ENGINES_PER_PROCESS - 1,
    );

    const steps = await allSteps(storage, workflowId, engine.runId);
    expect(steps.map((s) => s.step)).toEqual(Array.from({ length: TARGET + 1 }, (_, i) => i));
    for (const record of steps.slice(1)) {
      expect(record.parent).toBe(record.step - 1);
      expect(record.shared).toEqual({
        count: record.step,
        by: expect.stringMatching(/^[ab]\/\d$/),
      });
    }
    expect(steps.at(-1)).toMatchObject({ status: "completed", nextNodeId: null });
    expect(await storage.getRun(workflowId, engine.runId)).toMatchObject({
      headStep: TARGET,
      status: "completed",
    });
    // In the table itself: one row per step, no stray or duplicate.
    const rows = await withSql(async (sql) => {
      const result = await sql.query<{ step: number }>(
        `SELECT step FROM "${schema}".steps WHERE workflow_id = $1 AND run_id = $2 ORDER BY step`,
        [workflowId, engine.runId],
      );
      return result.rows.map((row) => row.step);
    });
    expect(rows).toEqual(Array.from({ length: TARGET + 1 }, (_, i) => i));
  });
});
