// Group commit: appends that wait for a busy store go out together as one
// statement, and each keeps its own condition, result and error. Every group
// here is forced, not hoped for: the store has one connection, which an
// append to a "blocker" run holds while it waits on a row lock the test
// owns; appends submitted meanwhile queue up and leave as one group when the
// test lets the blocker finish. Row locks held by the test, and the lock
// waits seen in pg_stat_activity, order the store's group against another
// process's appends.
import type { WorkflowStorage } from "@wf/core";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { PostgresStorage } from "../src/index.js";
import { quoteSchema } from "../src/schema-name.js";
import { statementsFor } from "../src/statements.js";
import {
  allSteps,
  damageRecord,
  Fixture,
  postgresUrl,
  rejection,
  sampleStep,
  seedRun,
  testSchema,
  withSql,
} from "./helpers.js";

const RUNS = 16;
const BARRIER_MS = 30_000;

/** A transaction of the test's own holding FOR UPDATE locks on the `runs` rows of `runIds`. */
async function lockRuns(
  schema: string,
  workflowId: string,
  runIds: string[],
): Promise<{ release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: postgresUrl() });
  await client.connect();
  await client.query("BEGIN");
  const { rowCount } = await client.query(
    `SELECT 1 FROM "${schema}".runs WHERE workflow_id = $1 AND run_id = ANY($2) FOR UPDATE`,
    [workflowId, runIds],
  );
  expect(rowCount).toBe(runIds.length);
  return {
    async release() {
      await client.query("COMMIT");
      await client.end();
    },
  };
}

/** Resolves once `count` backends wait on a lock while running `text`; the barrier of these tests. */
async function waitingOn(text: string, count: number): Promise<void> {
  const deadline = Date.now() + BARRIER_MS;
  for (;;) {
    const waiting = await withSql(async (sql) => {
      const { rows } = await sql.query<{ n: number }>(
        `SELECT count(*)::integer AS n FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock' AND query = $1`,
        [text],
      );
      return rows[0]?.n ?? 0;
    });
    if (waiting >= count) return;
    if (Date.now() > deadline) {
      throw new Error(`after ${BARRIER_MS} ms, ${waiting} of ${count} backends wait on a lock`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every promise's outcome: "stored" or the error code. */
function outcomes(appends: Promise<void>[]): Promise<string[]> {
  return Promise.all(
    appends.map((append) =>
      append.then(
        () => "stored",
        (error: { code?: string }) => error.code ?? String(error),
      ),
    ),
  );
}

describe("group commit", () => {
  const connectionString = postgresUrl();
  const schema = testSchema("group_commit");
  const sql = statementsFor(quoteSchema(schema));
  // One connection: one statement in flight, so every append submitted while it runs waits for the next group.
  const storage = new PostgresStorage({ connectionString, schema, maxConnections: 1 });
  afterAll(() => storage.close());

  /**
   * Starts an append to a fresh blocker run that waits on the test's lock,
   * holding the store's only connection; `release` lets it finish.
   */
  async function occupyTheStore(store: WorkflowStorage, workflowId: string) {
    const blocker = await seedRun(store, workflowId, 0);
    const lock = await lockRuns(schema, workflowId, [blocker]);
    const append = store.appendStep(sampleStep(workflowId, blocker, 1));
    await waitingOn(sql.appendStep.text, 1);
    return {
      async release() {
        await lock.release();
        await append;
      },
    };
  }

  it(`a group of appends to ${RUNS} runs, racing another process's appends to half of them, stores every append that won and fails only the ones that lost`, async () => {
    const workflowId = "group-race";
    const runIds: string[] = [];
    for (let i = 0; i < RUNS; i++) runIds.push(await seedRun(storage, workflowId, 0));
    const contested = runIds.filter((_, i) => i % 2 === 0);
    const contestedLock = await lockRuns(schema, workflowId, contested);
    const blocker = await occupyTheStore(storage, workflowId);

    // Queued behind the blocker: these leave together, as one group.
    const group = outcomes(
      runIds.map((runId) =>
        storage.appendStep(sampleStep(workflowId, runId, 1, { shared: { by: "group" } })),
      ),
    );
    // The other process's appends to the contested runs queue on the test's
    // lock first; the group, let go next, queues behind them on those rows.
    const child = new Fixture("append-step-one.mjs", [
      connectionString,
      schema,
      workflowId,
      contested.join(","),
    ]);
    await waitingOn(sql.appendStep.text, 1 + contested.length);
    await blocker.release();
    await waitingOn(sql.appendSteps, 1);
    await contestedLock.release();

    const childOutcomes = JSON.parse((await child.finished(60_000)).at(-1) as string) as Record<
      string,
      string
    >;
    const groupOutcomes = await group;
    for (const [i, runId] of runIds.entries()) {
      const isContested = contested.includes(runId);
      // The other process was first in the lock queue on the contested rows.
      expect(groupOutcomes[i]).toBe(isContested ? "STEP_CONFLICT" : "stored");
      if (isContested) expect(childOutcomes[runId]).toBe("stored");
      const steps = await allSteps(storage, workflowId, runId);
      expect(steps.map((step) => step.step)).toEqual([0, 1]);
      expect(steps[1]?.shared).toEqual({ by: isContested ? "child" : "group" });
      expect(await storage.getRun(workflowId, runId)).toMatchObject({ headStep: 1 });
    }
    // A loser's error names the head it lost to.
    const loser = await rejection(
      storage.appendStep(sampleStep(workflowId, contested[0] as string, 1)),
    );
    expect(loser).toMatchObject({ code: "STEP_CONFLICT" });
    expect(loser.message).toContain("1");
    // In the table itself: two rows per run, no stray or duplicate.
    const rows = await withSql(async (client) => {
      const result = await client.query<{ run_id: string; steps: number }>(
        `SELECT run_id, count(*)::integer AS steps FROM "${schema}".steps
         WHERE workflow_id = $1 AND run_id = ANY($2) GROUP BY run_id`,
        [workflowId, runIds],
      );
      return result.rows;
    });
    expect(rows).toHaveLength(RUNS);
    for (const row of rows) expect(row.steps).toBe(2);
  });

  it("a group in which one run's next step already has a row (a damaged head) stores the others and gives that run STEP_CONFLICT", async () => {
    const workflowId = "group-damaged";
    const runIds: string[] = [];
    for (let i = 0; i < 4; i++) runIds.push(await seedRun(storage, workflowId, 0));
    const damaged = runIds[2] as string;
    // Behind the head's back: step 1 exists while the head still says 0.
    await damageRecord(
      schema,
      { workflowId, runId: damaged, record: 1 },
      JSON.stringify(sampleStep(workflowId, damaged, 1, { shared: { by: "damage" } })),
    );
    const blocker = await occupyTheStore(storage, workflowId);
    const group = outcomes(
      runIds.map((runId) =>
        storage.appendStep(sampleStep(workflowId, runId, 1, { shared: { by: "group" } })),
      ),
    );
    await blocker.release();
    expect(await group).toEqual(
      runIds.map((runId) => (runId === damaged ? "STEP_CONFLICT" : "stored")),
    );
    for (const runId of runIds) {
      const step = await storage.getStep(workflowId, runId, 1);
      expect(step.shared).toEqual({ by: runId === damaged ? "damage" : "group" });
    }
  });

  it("appends to one run never share a group: of two racing for one step, one is stored and the other conflicts", async () => {
    const workflowId = "group-same-run";
    const runId = await seedRun(storage, workflowId, 0);
    const other = await seedRun(storage, workflowId, 0);
    const blocker = await occupyTheStore(storage, workflowId);
    const group = outcomes([
      storage.appendStep(sampleStep(workflowId, runId, 1, { shared: { by: "first" } })),
      storage.appendStep(sampleStep(workflowId, runId, 1, { shared: { by: "second" } })),
      storage.appendStep(sampleStep(workflowId, other, 1)),
    ]);
    await blocker.release();
    expect(await group).toEqual(["stored", "STEP_CONFLICT", "stored"]);
    expect((await storage.getStep(workflowId, runId, 1)).shared).toEqual({ by: "first" });
    expect(await storage.getRun(workflowId, runId)).toMatchObject({ headStep: 1 });
  });
});
