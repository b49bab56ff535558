import { fileURLToPath } from "node:url";
import { ChildFixture } from "@wf/test-services";
import { crashScenarioSuite } from "@wf/worker/queue-suite";
import pg from "pg";
import { inject } from "vitest";
import { PgBossQueue } from "../src/index.js";
import { freshStorage, TEST_LEASE } from "./servers.js";

const fixture = fileURLToPath(new URL("./fixtures/worker-process.mjs", import.meta.url));

crashScenarioSuite({
  name: "PgBossQueue + PostgresStorage",
  runs: 300,
  steps: 10,
  createQueue: async (queueName) =>
    new PgBossQueue({
      connectionString: inject("postgresUrl"),
      schema: `${inject("runLabel")}_boss`,
      queueName,
      ...TEST_LEASE,
    }),
  createStorage: freshStorage,
  spawn: (config, queueName) =>
    new ChildFixture(fixture, [
      JSON.stringify(config),
      queueName,
      inject("postgresUrl"),
      inject("runLabel"),
    ]),
  leftoverJobs: async (queueName) => {
    const sql = new pg.Client({ connectionString: inject("postgresUrl") });
    await sql.connect();
    try {
      // Read from the table itself: what is not yet completed, failed or cancelled is left over.
      const { rows } = await sql.query<{ count: string }>(
        `SELECT count(*) FROM "${inject("runLabel")}_boss".job WHERE name = $1 AND state < 'completed'`,
        [queueName],
      );
      return Number(rows[0]?.count);
    } finally {
      await sql.end();
    }
  },
});
