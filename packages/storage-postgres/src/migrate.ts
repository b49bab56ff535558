import { StorageMisconfiguredError } from "@wf/core";
import type { Connection, QueryRunner } from "./connection.js";
import { STORAGE_NAME } from "./driver-errors.js";
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from "./migrations.js";

/**
 * Advisory lock class of schema migrations ("wf" in the high bytes); the
 * second key is the schema name's hash. The two-key form keeps clear of
 * applications that use single bigint advisory locks.
 */
const MIGRATION_LOCK_CLASS = 0x77660000;

/**
 * The table recording the versions applied. Named after the package rather
 * than `schema_migrations`, which golang-migrate, Rails, Ecto and others keep
 * in the same schema under that name with a meaning of their own.
 */
export const VERSION_TABLE = "wf_schema_version";

/**
 * Where versions before 0.2 of this package kept the version. Such a table
 * is read, and copied into VERSION_TABLE by the next migration pass, only
 * when it has exactly the shape those versions gave it and the schema holds
 * their tables: a table of another tool under that name is never touched.
 * It is left in place so that processes still running an earlier version
 * keep finding their version.
 */
const EARLIER_VERSION_TABLE = "schema_migrations";

/** The columns of the version table, in order: name, type, NOT NULL. */
const VERSION_COLUMNS = [
  "version integer not null",
  "description text not null",
  "applied_at timestamp with time zone not null",
].join(", ");

const VERSION_TABLE_DDL = `(
  version     integer PRIMARY KEY,
  description text NOT NULL,
  applied_at  timestamptz NOT NULL DEFAULT now()
)`;

/** Where the schema's version is read from. */
export interface SchemaVersion {
  version: number;
  /** True when read from an earlier version's table, which a migration pass adopts. */
  earlier: boolean;
}

/**
 * The columns of `schema.table` as "name type not null, …", or null when
 * there is no such relation (or no such schema). A view or other relation
 * kind gives "" so that it never matches a table's shape.
 */
async function shapeOf(db: QueryRunner, schema: string, table: string): Promise<string | null> {
  const rows = await db.query<{ kind: string; columns: string | null }>(
    `SELECT c.relkind::text AS kind,
            string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                       || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END, ', ' ORDER BY a.attnum)
              AS columns
     FROM pg_class c
     JOIN pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     WHERE n.nspname = $1 AND c.relname = $2
     GROUP BY c.relkind`,
    [schema, table],
  );
  const row = rows[0];
  if (!row) return null;
  return row.kind === "r" ? (row.columns ?? "") : "";
}

/** Whether the schema holds the tables migration 1 creates. */
async function hasJournalTables(db: QueryRunner, schema: string): Promise<boolean> {
  const rows = await db.query(
    "SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename IN ('runs', 'steps')",
    [schema],
  );
  return rows.length === 2;
}

async function maxVersion(db: QueryRunner, quoted: string, table: string): Promise<number> {
  const rows = await db.query<{ version: number | null }>(
    `SELECT max(version) AS version FROM ${quoted}.${table}`,
  );
  return rows[0]?.version ?? 0;
}

/**
 * The schema version recorded in the database: from VERSION_TABLE, else from
 * an earlier version's table if it is ours, else 0 (a schema to set up). A
 * VERSION_TABLE that is not ours is STORAGE_MISCONFIGURED.
 */
export async function schemaVersion(
  db: QueryRunner,
  quoted: string,
  name: string,
): Promise<SchemaVersion> {
  const shape = await shapeOf(db, name, VERSION_TABLE);
  if (shape !== null) {
    assertOurVersionTable(shape, quoted);
    return { version: await maxVersion(db, quoted, VERSION_TABLE), earlier: false };
  }
  if (!(await isEarlierVersionTable(db, name))) return { version: 0, earlier: false };
  return { version: await maxVersion(db, quoted, EARLIER_VERSION_TABLE), earlier: true };
}

async function isEarlierVersionTable(db: QueryRunner, name: string): Promise<boolean> {
  return (
    (await shapeOf(db, name, EARLIER_VERSION_TABLE)) === VERSION_COLUMNS &&
    (await hasJournalTables(db, name))
  );
}

function assertOurVersionTable(shape: string, quoted: string): void {
  if (shape === VERSION_COLUMNS) return;
  throw new StorageMisconfiguredError(
    STORAGE_NAME,
    `${quoted}.${VERSION_TABLE} exists but is not the table @wf/storage-postgres keeps its schema version in ` +
      `(it has ${shape ? `columns ${shape}` : "no columns of a table"}; expected ${VERSION_COLUMNS}): ` +
      "rename or drop that table, or give the store a schema of its own",
  );
}

/**
 * Brings the schema to LATEST_SCHEMA_VERSION. Each migration runs in its own
 * transaction that first takes a transaction-level advisory lock, so
 * processes starting at once queue up, and each re-reads the version under
 * the lock: whoever comes second finds the work done. A crash mid-migration
 * rolls that migration back whole. The first pass on a schema set up by an
 * earlier version copies its versions into VERSION_TABLE, under the same
 * lock. Returns the version reached.
 */
export async function migrate(
  connection: Connection,
  quoted: string,
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
        if (exists.length === 0) await db.query(`CREATE SCHEMA ${quoted}`);
        const shape = await shapeOf(db, name, VERSION_TABLE);
        if (shape === null) {
          const earlier = await isEarlierVersionTable(db, name);
          await db.query(`CREATE TABLE ${quoted}.${VERSION_TABLE} ${VERSION_TABLE_DDL}`);
          if (earlier) {
            await db.query(
              `INSERT INTO ${quoted}.${VERSION_TABLE} (version, description, applied_at)
               SELECT version, description, applied_at FROM ${quoted}.${EARLIER_VERSION_TABLE}`,
            );
          }
        } else {
          assertOurVersionTable(shape, quoted);
        }
        const current = await maxVersion(db, quoted, VERSION_TABLE);
        assertKnownVersion(current, name);
        const next = MIGRATIONS[current];
        if (!next) {
          await db.query("COMMIT");
          return current;
        }
        await db.query(next.sql(quoted));
        await db.query(
          `INSERT INTO ${quoted}.${VERSION_TABLE} (version, description) VALUES ($1, $2)`,
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
    throw new StorageMisconfiguredError(
      STORAGE_NAME,
      `schema "${name}" is at version ${version}, newer than this @wf/storage-postgres understands ` +
        `(${LATEST_SCHEMA_VERSION}); upgrade the package`,
    );
  }
}
