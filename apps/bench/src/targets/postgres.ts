import { randomBytes } from "node:crypto";
import { PostgresStorage } from "@wf/storage-postgres";
import { findPostgres } from "@wf/test-services/postgres";
import pg from "pg";
import type { BenchTarget } from "../target.js";

/**
 * PostgresStorage on the test server (WF_TEST_POSTGRES_URL, 127.0.0.1:5432
 * or a private cluster) in a fresh schema. Baseline: one INSERT of the same
 * JSON text into a scratch table in that schema, over one pg connection (or,
 * with `connections`, over the pool the store uses too, as concurrent
 * single-row INSERTs). Neither side sets synchronous_commit, so both commit
 * with the server's setting (reported in the progress line) and wait for the
 * same WAL flush; a step is one statement too (UPDATE of the head feeding
 * the INSERT).
 */
export const target: BenchTarget = {
  name: "postgres",
  async open({ connections } = {}) {
    const server = await findPostgres();
    const schema = `wf_bench_${randomBytes(4).toString("hex")}`;
    const quoted = `"${schema}"`;
    const pool =
      connections === undefined
        ? undefined
        : new pg.Pool({ connectionString: server.url, max: connections });
    pool?.on("error", () => {});
    const storage = pool
      ? new PostgresStorage({ pool, schema })
      : new PostgresStorage({ connectionString: server.url, schema });
    const baseline = new pg.Client({ connectionString: server.url });
    const raw = pool ?? baseline;
    try {
      await storage.migrate();
      await baseline.connect();
      // Same column type as steps.record: the exact JSON text, unparsed.
      await baseline.query(
        `CREATE TABLE ${quoted}.baseline (i integer PRIMARY KEY, record text NOT NULL)`,
      );
      const { rows } = await baseline.query<{ synchronous_commit: string }>(
        "SHOW synchronous_commit",
      );
      process.stderr.write(`  postgres: synchronous_commit = ${rows[0]?.synchronous_commit}\n`);
    } catch (error) {
      await storage.close();
      await pool?.end();
      await baseline.end().catch(() => {});
      await server.stop();
      throw error;
    }
    return {
      storage,
      async baselineWrite(bytes, i) {
        await raw.query(`INSERT INTO ${quoted}.baseline (i, record) VALUES ($1, $2)`, [i, bytes]);
      },
      async bytesStored() {
        // pg_column_size is the size as stored: after TOAST compression, before page overhead.
        const { rows } = await baseline.query<{ bytes: string }>(
          `SELECT (SELECT coalesce(sum(pg_column_size(record)), 0) FROM ${quoted}.steps)
                + (SELECT coalesce(sum(pg_column_size(metadata)), 0) FROM ${quoted}.runs) AS bytes`,
        );
        return Number(rows[0]?.bytes ?? 0);
      },
      async close() {
        await storage.close();
        await pool?.end();
        try {
          await baseline.query(`DROP SCHEMA ${quoted} CASCADE`);
        } finally {
          await baseline.end();
          await server.stop();
        }
      },
    };
  },
};
