import { randomBytes } from "node:crypto";
import { PostgresStorage } from "@wf/storage-postgres";
import { findPostgres } from "@wf/test-services/postgres";
import pg from "pg";
import { openStore } from "../stores.js";
import type { StoreTarget } from "../target.js";

/**
 * PostgresStorage on the test server (WF_TEST_POSTGRES_URL, 127.0.0.1:5432 or
 * a private cluster) in a schema of its own, dropped afterwards. Damage is
 * written with plain SQL into the rows the store reads.
 */
export async function provision(label: string): Promise<StoreTarget> {
  const server = await findPostgres();
  const schema = `wf_torture_${label.replace(/\W/g, "_")}_${randomBytes(4).toString("hex")}`;
  const spec = { kind: "postgres" as const, url: server.url, schema };
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  // Migrated once here, so the first crash cycles do not all race to create the schema.
  const migrator = new PostgresStorage({ connectionString: server.url, schema });
  try {
    await migrator.migrate();
  } finally {
    await migrator.close();
  }
  const quoted = `"${schema}"`;
  return {
    kind: "postgres",
    where: `${server.source} server ${new URL(server.url).host}, schema ${schema}`,
    spec,
    open: () => openStore(spec),
    async damage({ workflowId, runId, record }, damaged) {
      const key = [workflowId, runId];
      // A text column cannot hold NUL, so no damage on disk can put one there:
      // write the replacement character instead (the record stays garbage).
      const text = damaged === null ? null : damaged.replaceAll("\u0000", "\ufffd");
      if (record === "metadata") {
        if (text === null) throw new TypeError("run metadata cannot be removed on its own here");
        await admin.query(
          `UPDATE ${quoted}.runs SET metadata = $3 WHERE workflow_id = $1 AND run_id = $2`,
          [...key, text],
        );
      } else if (text === null) {
        await admin.query(
          `DELETE FROM ${quoted}.steps WHERE workflow_id = $1 AND run_id = $2 AND step = $3`,
          [...key, record],
        );
      } else {
        await admin.query(
          `UPDATE ${quoted}.steps SET record = $4 WHERE workflow_id = $1 AND run_id = $2 AND step = $3`,
          [...key, record, text],
        );
      }
    },
    async dispose() {
      try {
        await admin.query(`DROP SCHEMA IF EXISTS ${quoted} CASCADE`);
      } finally {
        await admin.end();
        await server.stop();
      }
    },
  };
}
