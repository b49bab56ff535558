// Schema migrations: versioned, one transaction each, serialised by an
// advisory lock so processes starting at once end with one correct schema;
// applied on first use or by migrate(); a newer schema is refused.
import { describe, expect, it } from "vitest";
import { LATEST_SCHEMA_VERSION, PostgresStorage } from "../src/index.js";
import { MIGRATIONS } from "../src/migrations.js";
import {
  Fixture,
  postgresUrl,
  rejection,
  sampleRun,
  sampleStep,
  testSchema,
  withSql,
} from "./helpers.js";

const PROCESSES = 4;

async function recordedVersions(schema: string): Promise<number[]> {
  return withSql(async (sql) => {
    const { rows } = await sql.query<{ version: number }>(
      `SELECT version FROM "${schema}".schema_migrations ORDER BY version`,
    );
    return rows.map((row) => row.version);
  });
}

async function tablesOf(schema: string): Promise<string[]> {
  return withSql(async (sql) => {
    const { rows } = await sql.query<{ tablename: string }>(
      "SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename",
      [schema],
    );
    return rows.map((row) => row.tablename);
  });
}

async function schemaExists(schema: string): Promise<boolean> {
  return withSql(async (sql) => {
    const { rows } = await sql.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]);
    return rows.length === 1;
  });
}

/** Starts PROCESSES children of migrate.mjs on one schema at the same moment; returns what each printed. */
async function raceProcesses(schema: string, mode: "migrate" | "use"): Promise<unknown[]> {
  const children = Array.from(
    { length: PROCESSES },
    (_, i) => new Fixture("migrate.mjs", [postgresUrl(), schema, mode, String(i)]),
  );
  await Promise.all(children.map((child) => child.waitForLines(1)));
  for (const child of children) child.send("go");
  const outputs = await Promise.all(children.map((child) => child.finished(60_000)));
  return outputs.map((lines) => JSON.parse(lines.at(-1) as string).version);
}

describe("schema migrations", () => {
  it("the migrations are numbered 1, 2, … without gaps, ending at LATEST_SCHEMA_VERSION", () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(
      Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1),
    );
  });

  it(`${PROCESSES} processes migrating a fresh schema at once all succeed and leave one schema at the latest version`, async () => {
    const schema = testSchema("migrate_race");
    expect(await schemaExists(schema)).toBe(false);
    const versions = await raceProcesses(schema, "migrate");
    expect(versions).toEqual(Array(PROCESSES).fill(LATEST_SCHEMA_VERSION));
    expect(await recordedVersions(schema)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(await tablesOf(schema)).toEqual(["runs", "schema_migrations", "steps"]);
  });

  it(`${PROCESSES} processes using a fresh schema at once migrate it on first use, and each write lands`, async () => {
    const schema = testSchema("first_use_race");
    const outcomes = await raceProcesses(schema, "use");
    expect(outcomes).toEqual(Array(PROCESSES).fill("used"));
    expect(await recordedVersions(schema)).toEqual(MIGRATIONS.map((m) => m.version));
    const runs = await withSql(async (sql) => {
      const { rows } = await sql.query<{ workflow_id: string }>(
        `SELECT workflow_id FROM "${schema}".runs ORDER BY workflow_id`,
      );
      return rows.map((row) => row.workflow_id);
    });
    expect(runs).toEqual(Array.from({ length: PROCESSES }, (_, i) => `migrating-${i}`));
  });

  it("migrate() on an up-to-date schema changes nothing and reports the same version", async () => {
    const schema = testSchema("migrate_twice");
    const storage = new PostgresStorage({ connectionString: postgresUrl(), schema });
    try {
      expect(await storage.migrate()).toBe(LATEST_SCHEMA_VERSION);
      const before = await withSql(
        async (sql) => (await sql.query(`SELECT * FROM "${schema}".schema_migrations`)).rows,
      );
      expect(await storage.migrate()).toBe(LATEST_SCHEMA_VERSION);
      const after = await withSql(
        async (sql) => (await sql.query(`SELECT * FROM "${schema}".schema_migrations`)).rows,
      );
      expect(after).toEqual(before);
    } finally {
      await storage.close();
    }
  });

  it("with autoMigrate off, an unmigrated schema fails with STORAGE_UNAVAILABLE and is not created until migrate() runs", async () => {
    const schema = testSchema("manual");
    const storage = new PostgresStorage({
      connectionString: postgresUrl(),
      schema,
      autoMigrate: false,
    });
    try {
      const error = await rejection(storage.listWorkflows());
      expect(error.code).toBe("STORAGE_UNAVAILABLE");
      expect(error.message).toContain("storage.migrate()");
      expect(await schemaExists(schema)).toBe(false);
      await storage.migrate();
      await storage.createRun(sampleRun("manual", "r1"), sampleStep("manual", "r1", 0));
      expect((await storage.getRun("manual", "r1")).headStep).toBe(0);
    } finally {
      await storage.close();
    }
  });

  it("a schema newer than this package is refused with STORAGE_UNAVAILABLE, and nothing is written", async () => {
    const schema = testSchema("newer");
    const first = new PostgresStorage({ connectionString: postgresUrl(), schema });
    await first.migrate();
    await first.close();
    const future = LATEST_SCHEMA_VERSION + 1;
    await withSql((sql) =>
      sql.query(
        `INSERT INTO "${schema}".schema_migrations (version, description) VALUES ($1, 'from the future')`,
        [future],
      ),
    );
    const storage = new PostgresStorage({ connectionString: postgresUrl(), schema });
    try {
      const error = await rejection(
        storage.createRun(sampleRun("newer", "r1"), sampleStep("newer", "r1", 0)),
      );
      expect(error.code).toBe("STORAGE_UNAVAILABLE");
      expect(error.message).toContain(`version ${future}`);
      expect((await rejection(storage.migrate())).code).toBe("STORAGE_UNAVAILABLE");
      const count = await withSql(async (sql) => {
        const { rows } = await sql.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM "${schema}".runs`,
        );
        return rows[0]?.n;
      });
      expect(count).toBe(0);
    } finally {
      await storage.close();
    }
  });
});
