import { StorageUnavailableError } from "@wf/core";
import type { Connection, QueryRunner } from "./connection.js";
import { STORAGE_NAME } from "./driver-errors.js";
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from "./migrations.js";

/**
 * Advisory lock class of schema migrations ("wf" in the high bytes); the
 * second key is the schema name's hash. The two-key form keeps clear of
 * applications that use single bigint advisory locks.
 */
const MIGRATION_LOCK_CLASS = 0x77660000;

const UNDEFINED_TABLE = "42P01";
const INVALID_SCHEMA_NAME = "3F000";

/** The schema version recorded in the database; 0 when the schema or its version table is absent. */
export async function schemaVersion(db: QueryRunner, schema: string): Promise<number> {
  try {
    const rows = await db.query<{ version: number | null }>(
      `SELECT max(version) AS version FROM ${schema}.schema_migrations`,
    );
    return rows[0]?.version ?? 0;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === UNDEFINED_TABLE || code === INVALID_SCHEMA_NAME) return 0;
    throw error;
  }
}

/**
 * Brings the schema to LATEST_SCHEMA_VERSION. Each migration runs in its own
 * transaction that first takes a transaction-level advisory lock, so
 * processes starting at once queue up, and each re-reads the version under
 * the lock: whoever comes second finds the work done. A crash mid-migration
 * rolls that migration back whole. Returns the version reached.
 */
export async function migrate(
  connection: Connection,
  schema: string,
  name: string,
): Promise<number> {
  return connection.withClient(async (db) => {
    // Bounded by the number of migrations: each pass applies one or stops.
    for (let pass = 0; pass <= MIGRATIONS.length; pass++) {
      await db.query("BEGIN");
      try {
        await db.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [
          MIGRATION_LOCK_CLASS,
          name,
        ]);
        const exists = await db.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [name]);
        // Only when absent: CREATE SCHEMA IF NOT EXISTS still demands the CREATE privilege.
        if (exists.length === 0) await db.query(`CREATE SCHEMA ${schema}`);
        await db.query(
          `CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (
             version     integer PRIMARY KEY,
             description text NOT NULL,
             applied_at  timestamptz NOT NULL DEFAULT now()
           )`,
        );
        const current = await schemaVersion(db, schema);
        assertKnownVersion(current, name);
        const next = MIGRATIONS[current];
        if (!next) {
          await db.query("COMMIT");
          return current;
        }
        await db.query(next.sql(schema));
        await db.query(
          `INSERT INTO ${schema}.schema_migrations (version, description) VALUES ($1, $2)`,
          [next.version, next.description],
        );
        await db.query("COMMIT");
      } catch (error) {
        await db.query("ROLLBACK").catch(() => {});
        throw error;
      }
    }
    throw new Error(`migrating schema "${name}" did not finish in ${MIGRATIONS.length + 1} passes`);
  });
}

/** A schema newer than this code is refused: its rows may mean something this version cannot read. */
export function assertKnownVersion(version: number, name: string): void {
  if (version > LATEST_SCHEMA_VERSION) {
    throw new StorageUnavailableError(
      STORAGE_NAME,
      `schema "${name}" is at version ${version}, newer than this @wf/storage-postgres understands ` +
        `(${LATEST_SCHEMA_VERSION}); upgrade the package`,
    );
  }
}
