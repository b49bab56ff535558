// Finds (or starts) the PostgreSQL the tests use, and after the run drops the
// schemas they made (pg-boss's and the store's both start with the run's label).
import { randomBytes } from "node:crypto";
import { findPostgres } from "@wf/test-services/postgres";
import pg from "pg";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    postgresUrl: string;
    /** Unique to this run: every schema the tests make starts with it. */
    runLabel: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const postgres = await findPostgres();
  const runLabel = `wf_pgboss_${randomBytes(4).toString("hex")}`;
  project.provide("postgresUrl", postgres.url);
  project.provide("runLabel", runLabel);
  return async () => {
    const sql = new pg.Client({ connectionString: postgres.url });
    try {
      await sql.connect();
      const { rows } = await sql.query<{ nspname: string }>(
        "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1",
        [`${runLabel}%`],
      );
      for (const { nspname } of rows) await sql.query(`DROP SCHEMA "${nspname}" CASCADE`);
    } finally {
      await sql.end().catch(() => {});
    }
    await postgres.stop();
  };
}
