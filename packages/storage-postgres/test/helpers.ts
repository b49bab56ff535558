// Test helpers shared by the storage-postgres test files: the server and
// schema of this run, sample records, direct SQL reads, and child processes
// running fixtures against the built package.

import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { StepRecord, WorkflowStorage } from "@wf/core";
import { collectPages, type DamageTarget } from "@wf/storage-conformance";
import { ChildFixture } from "@wf/test-services";
import pg from "pg";
import { inject } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));

/** Connection string of the server this run uses (from test/global-setup.ts). */
export function postgresUrl(): string {
  return inject("postgresUrl");
}

/** A schema of this run's own, dropped by the global teardown. */
export function testSchema(label: string): string {
  return `${inject("schemaPrefix")}_${label}`;
}

/** Runs `work` with a plain pg client on the test server, to read what the store wrote. */
export async function withSql<T>(
  work: (client: pg.Client) => Promise<T>,
  connectionString = postgresUrl(),
): Promise<T> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export { rejection, sampleRun, sampleStep, seedRun } from "@wf/storage-conformance";

/**
 * Damages a record behind the store's back, as the conformance `damage` hook
 * does: `text` replaces the run row's `metadata` or a step row's `record`
 * (inserting the step row if it is gone), or `null` deletes the step row.
 * The run row's head_step, status and updated_at stay as they are.
 */
export async function damageRecord(
  schema: string,
  { workflowId, runId, record }: DamageTarget,
  text: string | null,
): Promise<void> {
  await withSql(async (sql) => {
    const key = [workflowId, runId];
    if (record === "metadata") {
      if (text === null)
        throw new Error("run metadata cannot be removed on its own: the row is the run");
      const { rowCount } = await sql.query(
        `UPDATE "${schema}".runs SET metadata = $3 WHERE workflow_id = $1 AND run_id = $2`,
        [...key, text],
      );
      if (rowCount !== 1) throw new Error(`no run ${runId} to damage`);
    } else if (text === null) {
      await sql.query(
        `DELETE FROM "${schema}".steps WHERE workflow_id = $1 AND run_id = $2 AND step = $3`,
        [...key, record],
      );
    } else {
      await sql.query(
        `INSERT INTO "${schema}".steps (workflow_id, run_id, step, record) VALUES ($1, $2, $3, $4)
         ON CONFLICT (workflow_id, run_id, step) DO UPDATE SET record = excluded.record`,
        [...key, record, text],
      );
    }
  });
}

/** Every record the store holds for a run, through every page of listSteps. */
export function allSteps(
  storage: WorkflowStorage,
  workflowId: string,
  runId: string,
): Promise<StepRecord[]> {
  return collectPages((cursor) => storage.listSteps(workflowId, runId, { cursor, limit: 50 }));
}

/** A fixture script of test/fixtures in a child process; fixtures import the built package. */
export class Fixture extends ChildFixture {
  constructor(script: string, args: string[] = []) {
    const built = join(here, "..", "dist", "index.js");
    if (!existsSync(built)) {
      throw new Error(`Fixtures import the built package: run \`npm run build\` first (${built}).`);
    }
    super(join(here, "fixtures", script), args);
  }
}
