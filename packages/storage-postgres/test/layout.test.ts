// What the store writes, read back with plain SQL: exact JSON text per step,
// the run row mirroring the head, ids stored verbatim or refused by the id rule, deletes
// removing both tables' rows, and listings answered from indexes in order.
import { freePort } from "@wf/test-services";
import { beforeAll, describe, expect, it } from "vitest";
import { PostgresStorage } from "../src/index.js";
import { statementsFor } from "../src/statements.js";
import { postgresUrl, rejection, sampleRun, sampleStep, testSchema, withSql } from "./helpers.js";

const schema = testSchema("layout");
const quoted = `"${schema}"`;

function openStore(): PostgresStorage {
  return new PostgresStorage({ connectionString: postgresUrl(), schema });
}

async function rowsOf<Row>(text: string, values: unknown[] = []): Promise<Row[]> {
  return withSql(async (sql) => (await sql.query(text, values)).rows as Row[]);
}

describe("what is stored", () => {
  it("each step is one row holding the record's exact JSON text, NUL characters included", async () => {
    const storage = openStore();
    try {
      const shared = { text: "\u0000nul \u2028 日本 🎉", "\u0000key": [1.5, null], __proto__x: 1 };
      const step0 = sampleStep("exact", "r1", 0, { shared });
      await storage.createRun(sampleRun("exact", "r1"), step0);
      const step1 = sampleStep("exact", "r1", 1, { shared: { lone: "\ud800" } });
      await storage.appendStep(step1);
      const rows = await rowsOf<{ step: number; record: string }>(
        `SELECT step, record FROM ${quoted}.steps WHERE workflow_id = 'exact' ORDER BY step`,
      );
      expect(rows).toEqual([
        { step: 0, record: JSON.stringify(step0) },
        { step: 1, record: JSON.stringify(step1) },
      ]);
      expect(await storage.getStep("exact", "r1", 0)).toEqual(step0);
      expect((await storage.getStep("exact", "r1", 1)).shared).toEqual({ lone: "\ud800" });
    } finally {
      await storage.close();
    }
  });

  it("the run row keeps the metadata as created while head_step, status and updated_at follow each append", async () => {
    const storage = openStore();
    try {
      const run = sampleRun("head", "r1");
      await storage.createRun(run, sampleStep("head", "r1", 0));
      const step1 = sampleStep("head", "r1", 1, { status: "waiting_for_input" });
      await storage.appendStep(step1);
      const [row] = await rowsOf<Record<string, unknown>>(
        `SELECT created_at, updated_at, status, head_step, metadata FROM ${quoted}.runs WHERE workflow_id = 'head'`,
      );
      expect(row).toEqual({
        created_at: run.createdAt,
        updated_at: step1.createdAt,
        status: "waiting_for_input",
        head_step: 1,
        metadata: JSON.stringify(run),
      });
      expect(JSON.stringify(await storage.getRun("head", "r1"))).toBe(
        JSON.stringify({
          ...run,
          headStep: 1,
          status: "waiting_for_input",
          updatedAt: step1.createdAt,
        }),
      );
    } finally {
      await storage.close();
    }
  });

  it("ids within the rule that mean something to SQL (LIKE's _ and ., dots alone) are stored verbatim and match only themselves", async () => {
    const storage = openStore();
    const workflowId = "_";
    try {
      for (const runId of ["a", "_", "..."]) {
        await storage.createRun(sampleRun(workflowId, runId), sampleStep(workflowId, runId, 0));
      }
      await storage.appendStep(sampleStep(workflowId, "_", 1));
      const rows = await rowsOf<{ run_id: string; step: number }>(
        `SELECT run_id, step FROM ${quoted}.steps WHERE workflow_id = $1 ORDER BY run_id, step`,
        [workflowId],
      );
      expect(rows).toEqual([
        { run_id: "...", step: 0 },
        { run_id: "_", step: 0 },
        { run_id: "_", step: 1 },
        { run_id: "a", step: 0 },
      ]);
      expect((await storage.getRun(workflowId, "_")).headStep).toBe(1);
      expect((await rejection(storage.getRun("x", "_"))).code).toBe("RUN_NOT_FOUND");
      await storage.deleteRun(workflowId, "_");
      expect((await storage.getRun(workflowId, "a")).headStep).toBe(0);
    } finally {
      await storage.close();
    }
  });

  it("ids outside the id rule (3,000 characters, NUL, lone surrogates, SQL) are INVALID_ID from every method before any query", async () => {
    // Nothing listens on this port: an id that reached the driver would be STORAGE_UNAVAILABLE.
    const offline = new PostgresStorage({
      connectionString: `postgres://postgres@127.0.0.1:${await freePort()}/postgres`,
    });
    const storage = openStore();
    const bad = ["x".repeat(3000), "nul\u0000wf", "r\ud800", "x'); DROP TABLE runs; --", "a b"];
    try {
      for (const store of [offline, storage]) {
        for (const id of bad) {
          for (const [workflowId, runId] of [
            [id, "r1"],
            ["wf", id],
          ] as const) {
            const calls: [string, () => Promise<unknown>][] = [
              [
                "createRun",
                () =>
                  store.createRun(sampleRun(workflowId, runId), sampleStep(workflowId, runId, 0)),
              ],
              ["appendStep", () => store.appendStep(sampleStep(workflowId, runId, 1))],
              ["getRun", () => store.getRun(workflowId, runId)],
              ["getStep", () => store.getStep(workflowId, runId, 0)],
              ["getLatestStep", () => store.getLatestStep(workflowId, runId)],
              ["listSteps", () => store.listSteps(workflowId, runId)],
              ["listRuns", () => store.listRuns(workflowId === "wf" ? runId : workflowId)],
              ["deleteRun", () => store.deleteRun(workflowId, runId)],
            ];
            for (const [name, call] of calls) {
              const error = await rejection(call());
              expect(error.code, `${name} with ${JSON.stringify(id.slice(0, 20))}`).toBe(
                "INVALID_ID",
              );
            }
          }
        }
      }
      const rows = await rowsOf(
        `SELECT 1 FROM ${quoted}.runs WHERE length(workflow_id) > 128 OR workflow_id = 'wf'`,
      );
      expect(rows).toEqual([]);
    } finally {
      await offline.close();
      await storage.close();
    }
  });

  it("deleteRun removes the run's rows from both tables and no other run's", async () => {
    const storage = openStore();
    try {
      for (const runId of ["doomed", "kept"]) {
        await storage.createRun(sampleRun("delete", runId), sampleStep("delete", runId, 0));
        await storage.appendStep(sampleStep("delete", runId, 1));
      }
      await storage.deleteRun("delete", "doomed");
      const runs = await rowsOf<{ run_id: string }>(
        `SELECT run_id FROM ${quoted}.runs WHERE workflow_id = 'delete'`,
      );
      const steps = await rowsOf<{ run_id: string; step: number }>(
        `SELECT run_id, step FROM ${quoted}.steps WHERE workflow_id = 'delete' ORDER BY step`,
      );
      expect(runs).toEqual([{ run_id: "kept" }]);
      expect(steps).toEqual([
        { run_id: "kept", step: 0 },
        { run_id: "kept", step: 1 },
      ]);
    } finally {
      await storage.close();
    }
  });

  it("two schemas on one database are separate journals", async () => {
    const a = openStore();
    const b = new PostgresStorage({
      connectionString: postgresUrl(),
      schema: testSchema("layout_other"),
    });
    try {
      await a.createRun(sampleRun("isolated", "r1"), sampleStep("isolated", "r1", 0));
      expect((await rejection(b.getRun("isolated", "r1"))).code).toBe("RUN_NOT_FOUND");
      expect((await b.listWorkflows()).items).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe("query plans", () => {
  /**
   * The plan PostgreSQL chooses with sequential scans and sorts priced out:
   * if a Sort or Seq Scan still appears, no index can serve the query in order.
   */
  async function planOf(text: string, values: unknown[]): Promise<string> {
    return withSql(async (sql) => {
      await sql.query("SET enable_seqscan = off");
      await sql.query("SET enable_sort = off");
      await sql.query("SET plan_cache_mode = force_generic_plan");
      await sql.query(`PREPARE probe AS ${text}`);
      const { rows } = await sql.query<{ "QUERY PLAN": string }>(
        `EXPLAIN EXECUTE probe(${values.map((v) => (typeof v === "number" ? v : `'${v}'`)).join(", ")})`,
      );
      return rows.map((row) => row["QUERY PLAN"]).join("\n");
    });
  }

  const sql = statementsFor(quoted);

  beforeAll(async () => {
    const storage = openStore();
    await storage.migrate();
    await storage.close();
  });

  it("the named statements' generic plans, made on empty tables with the planner left alone, find the run by its whole primary key", async () => {
    // A named statement may run on one generic plan for the connection's
    // life: it must be a good plan however small the tables were when made.
    const probes = [
      [sql.appendStep, ["wf", "run", 1, "running", "2026-01-01T00:00:00.000Z", "{}"]],
      [sql.headStep, ["wf", "run"]],
      [sql.deleteRun, ["wf", "run"]],
    ] as const;
    for (const [statement, values] of probes) {
      const plan = await withSql(async (client) => {
        await client.query("SET plan_cache_mode = force_generic_plan");
        await client.query(`PREPARE probe AS ${statement.text}`);
        const { rows } = await client.query<{ "QUERY PLAN": string }>(
          `EXPLAIN EXECUTE probe(${values.map((v) => (typeof v === "number" ? v : `'${v}'`)).join(", ")})`,
        );
        return rows.map((row) => row["QUERY PLAN"]).join("\n");
      });
      expect(plan).toMatch(/Index Scan using runs_pkey on runs/);
      expect(plan).toMatch(/Index Cond: \(\(workflow_id = \$1\) AND \(run_id = \$2\)\)/);
      expect(plan).not.toMatch(/Seq Scan|Join Filter/);
    }
  });

  it("listRuns pages newest first from an index, with and without a status filter, without sorting", async () => {
    const plain = await planOf(sql.listRuns(true), ["wf", 11, "2026-01-01T00:00:00.000Z", "run"]);
    expect(plain).toContain("runs_newest_first");
    const filtered = await planOf(sql.listRunsWithStatus(true), [
      "wf",
      11,
      "completed",
      1001,
      "2026-01-01T00:00:00.000Z",
      "run",
    ]);
    // The matches come from the status index; the rows between them from the newest-first one.
    expect(filtered).toMatch(/Index Only Scan using runs_by_status_newest_first/);
    expect(filtered).toMatch(/Index Scan using runs_newest_first/);
    for (const plan of [plain, filtered]) {
      expect(plan).not.toMatch(/Sort|Seq Scan/);
      // The cursor is an index condition (keyset), not a filter over rows already read.
      expect(plan).toMatch(/Index Cond: .*created_at/);
    }
    // The page's lower end (its last match) bounds the scan too, so no page reads to the workflow's end.
    expect(filtered).toMatch(/Index Cond: .*created_at, run_id\) >= /);
  });

  it("listSteps, getLatestStep and listWorkflows read an index in order, without sorting", async () => {
    const plans = [
      await planOf(sql.listSteps, ["wf", "run", 0, 101]),
      await planOf(sql.getLatestStep, ["wf", "run"]),
      await planOf(sql.listWorkflows(true), [101, "wf"]),
    ];
    for (const plan of plans) {
      expect(plan).not.toMatch(/Sort|Seq Scan/);
      expect(plan).toMatch(/Index (Only )?Scan using \w+ on (runs|steps)/);
    }
  });
});
