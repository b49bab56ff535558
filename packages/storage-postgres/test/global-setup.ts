// Finds the PostgreSQL the tests use (WF_TEST_POSTGRES_URL, else 127.0.0.1:5432, else a private cluster; see @wf/test-services) and, after the run, drops
// every schema the run made, leaving a shared server as it was found.
import { randomBytes } from "node:crypto";
import { findPostgres, POSTGRES_URL_ENV } from "@wf/test-services/postgres";
import pg from "pg";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** Connection string of the server under test. */
    postgresUrl: string;
    /** Every schema this run makes starts with it, so teardown can find them all. */
    schemaPrefix: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await findPostgres();
  const probe = new pg.Client({ connectionString: server.url, connectionTimeoutMillis: 10_000 });
  try {
    await probe.connect();
  } catch (error) {
    await server.stop();
    throw new Error(
      `PostgreSQL at ${server.url} (${server.source}) refused the test run: ${(error as Error).message}. ` +
        `Set ${POSTGRES_URL_ENV} to a server and database the tests may create schemas in.`,
      { cause: error },
    );
  } finally {
    await probe.end().catch(() => {});
  }
  const schemaPrefix = `wf_test_${randomBytes(4).toString("hex")}`;
  project.provide("postgresUrl", server.url);
  project.provide("schemaPrefix", schemaPrefix);

  return async () => {
    const client = new pg.Client({ connectionString: server.url });
    try {
      await client.connect();
      const { rows } = await client.query<{ nspname: string }>(
        "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)",
        [schemaPrefix],
      );
      for (const { nspname } of rows) {
        await client.query(`DROP SCHEMA "${nspname}" CASCADE`);
      }
    } finally {
      await client.end().catch(() => {});
      await server.stop();
    }
  };
}
