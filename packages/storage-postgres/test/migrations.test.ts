// Schema migrations: versioned, one transaction each, serialised by an
// advisory lock so processes starting at once end with one correct schema;
// applied on first use or by migrate(); a newer schema is refused. The
// version lives in wf_schema_version: a schema_migrations table of another
// tool is left alone, the one earlier versions of this package kept is
// adopted, and a wf_schema_version that is not ours is refused.
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
      `SELECT version FROM "${schema}".wf_schema_version ORDER BY version`,
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
    expect(await tablesOf(schema)).toEqual(["runs", "steps", "wf_schema_version"]);
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
        async (sql) => (await sql.query(`SELECT * FROM "${schema}".wf_schema_version`)).rows,
      );
      expect(await storage.migrate()).toBe(LATEST_SCHEMA_VERSION);
      const after = await withSql(
        async (sql) => (await sql.query(`SELECT * FROM "${schema}".wf_schema_version`)).rows,
      );
      expect(after).toEqual(before);
    } finally {
      await storage.close();
    }
  });

  it("with autoMigrate off, an unmigrated schema fails with STORAGE_MISCONFIGURED and is not created until migrate() runs", async () => {
    const schema = testSchema("manual");
    const storage = new PostgresStorage({
      connectionString: postgresUrl(),
      schema,
      autoMigrate: false,
    });
    try {
      const error = await rejection(storage.listWorkflows());
      expect(error.code).toBe("STORAGE_MISCONFIGURED");
      expect(error.message).toContain("storage.migrate()");
      expect(await schemaExists(schema)).toBe(false);
      await storage.migrate();
      await storage.createRun(sampleRun("manual", "r1"), sampleStep("manual", "r1", 0));
      expect((await storage.getRun("manual", "r1")).headStep).toBe(0);
    } finally {
      await storage.close();
    }
  });

  it("a schema newer than this package is refused with STORAGE_MISCONFIGURED, and nothing is written", async () => {
    const schema = testSchema("newer");
    const first = new PostgresStorage({ connectionString: postgresUrl(), schema });
    await first.migrate();
    await first.close();
    const future = LATEST_SCHEMA_VERSION + 1;
    await withSql((sql) =>
      sql.query(
        `INSERT INTO "${schema}".wf_schema_version (version, description) VALUES ($1, 'from the future')`,
        [future],
      ),
    );
    const storage = new PostgresStorage({ connectionString: postgresUrl(), schema });
    try {
      const error = await rejection(
        storage.createRun(sampleRun("newer", "r1"), sampleStep("newer", "r1", 0)),
      );
      expect(error.code).toBe("STORAGE_MISCONFIGURED");
      expect(error.message).toContain(`version ${future}`);
      expect((await rejection(storage.migrate())).code).toBe("STORAGE_MISCONFIGURED");
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

/** The bookkeeping tables other migration tools keep under the same name, with version 1 applied. */
const FOREIGN_SCHEMA_MIGRATIONS: [string, string, string][] = [
  [
    "golang-migrate",
    "version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL",
    "INSERT INTO %s.schema_migrations VALUES (1, false)",
  ],
  [
    "Rails",
    "version character varying NOT NULL PRIMARY KEY",
    "INSERT INTO %s.schema_migrations VALUES ('1')",
  ],
  [
    "Ecto",
    "version bigint PRIMARY KEY, inserted_at timestamp(0) without time zone",
    "INSERT INTO %s.schema_migrations VALUES (1, '2024-01-01 00:00:00')",
  ],
];

/** What version 0.1 of this package left: its own schema_migrations, then migration 1. */
async function createEarlierLayout(schema: string): Promise<void> {
  const quoted = `"${schema}"`;
  await withSql(async (sql) => {
    await sql.query(`CREATE SCHEMA ${quoted}`);
    await sql.query(
      `CREATE TABLE ${quoted}.schema_migrations (
         version     integer PRIMARY KEY,
         description text NOT NULL,
         applied_at  timestamptz NOT NULL DEFAULT now()
       )`,
    );
    await sql.query((MIGRATIONS[0] as (typeof MIGRATIONS)[number]).sql(quoted));
    await sql.query(
      `INSERT INTO ${quoted}.schema_migrations (version, description, applied_at)
       VALUES (1, 'runs and steps', '2026-01-02T03:04:05Z')`,
    );
  });
}

async function rowsOf(schema: string, table: string): Promise<unknown[]> {
  return withSql(async (sql) => (await sql.query(`SELECT * FROM "${schema}".${table}`)).rows);
}

describe("the version table", () => {
  for (const [tool, columns, insert] of FOREIGN_SCHEMA_MIGRATIONS) {
    it(`a ${tool} schema_migrations table in the schema is left alone, and the store works beside it`, async () => {
      const schema = testSchema(`foreign_${tool.replace("-", "_").toLowerCase()}`);
      await withSql(async (sql) => {
        await sql.query(`CREATE SCHEMA "${schema}"`);
        await sql.query(`CREATE TABLE "${schema}".schema_migrations (${columns})`);
        await sql.query(insert.replace("%s", `"${schema}"`));
      });
      const before = await rowsOf(schema, "schema_migrations");
      const storage = new PostgresStorage({ connectionString: postgresUrl(), schema });
      try {
        await storage.createRun(sampleRun("beside", "r1"), sampleStep("beside", "r1", 0));
        await storage.appendStep(sampleStep("beside", "r1", 1));
        expect((await storage.getRun("beside", "r1")).headStep).toBe(1);
        expect(await storage.migrate()).toBe(LATEST_SCHEMA_VERSION);
      } finally {
        await storage.close();
      }
      expect(await rowsOf(schema, "schema_migrations")).toEqual(before);
      expect(await recordedVersions(schema)).toEqual(MIGRATIONS.map((m) => m.version));
      expect(await tablesOf(schema)).toEqual([
        "runs",
        "schema_migrations",
        "steps",
        "wf_schema_version",
      ]);
    });
  }

  it("a schema set up by an earlier version of this package is adopted: its runs stay readable and its versions move to wf_schema_version", async () => {
    const schema = testSchema("earlier");
    await createEarlierLayout(schema);
    const run = sampleRun("earlier", "r1");
    const step0 = sampleStep("earlier", "r1", 0);
    await withSql(async (sql) => {
      await sql.query(
        `INSERT INTO "${schema}".runs (workflow_id, run_id, created_at, updated_at, status, head_step, metadata)
         VALUES ($1, $2, $3, $3, 'running', 0, $4)`,
        ["earlier", "r1", run.createdAt, JSON.stringify(run)],
      );
      await sql.query(
        `INSERT INTO "${schema}".steps (workflow_id, run_id, step, record) VALUES ('earlier', 'r1', 0, $1)`,
        [JSON.stringify(step0)],
      );
    });
    const before = await rowsOf(schema, "schema_migrations");
    const storage = new PostgresStorage({ connectionString: postgresUrl(), schema });
    try {
      expect(await storage.getRun("earlier", "r1")).toEqual(run);
      await storage.appendStep(sampleStep("earlier", "r1", 1));
      expect((await storage.getLatestStep("earlier", "r1")).step).toBe(1);
    } finally {
      await storage.close();
    }
    expect(await rowsOf(schema, "wf_schema_version")).toEqual(before);
    // Left in place for processes still running the earlier version.
    expect(await rowsOf(schema, "schema_migrations")).toEqual(before);
  });

  it("with autoMigrate off, a schema set up by an earlier version is used as it is, without migrate()", async () => {
    const schema = testSchema("earlier_manual");
    await createEarlierLayout(schema);
    const storage = new PostgresStorage({
      connectionString: postgresUrl(),
      schema,
      autoMigrate: false,
    });
    try {
      await storage.createRun(sampleRun("manual", "r1"), sampleStep("manual", "r1", 0));
      expect((await storage.getRun("manual", "r1")).headStep).toBe(0);
      expect(await tablesOf(schema)).toEqual(["runs", "schema_migrations", "steps"]);
      expect(await storage.migrate()).toBe(LATEST_SCHEMA_VERSION);
      expect(await recordedVersions(schema)).toEqual([1]);
    } finally {
      await storage.close();
    }
  });

  it(`${PROCESSES} processes starting at once on a schema of an earlier version adopt it once`, async () => {
    const schema = testSchema("earlier_race");
    await createEarlierLayout(schema);
    const outcomes = await raceProcesses(schema, "use");
    expect(outcomes).toEqual(Array(PROCESSES).fill("used"));
    expect(await recordedVersions(schema)).toEqual([1]);
  });

  it("a wf_schema_version table that is not the store's is STORAGE_MISCONFIGURED naming it, and nothing is created", async () => {
    const schema = testSchema("foreign_version");
    await withSql(async (sql) => {
      await sql.query(`CREATE SCHEMA "${schema}"`);
      await sql.query(
        `CREATE TABLE "${schema}".wf_schema_version (version bigint PRIMARY KEY, dirty boolean)`,
      );
      await sql.query(`INSERT INTO "${schema}".wf_schema_version VALUES (1, false)`);
    });
    const storage = new PostgresStorage({ connectionString: postgresUrl(), schema });
    try {
      for (const call of [() => storage.listWorkflows(), () => storage.migrate()]) {
        const error = await rejection(call());
        expect(error.code).toBe("STORAGE_MISCONFIGURED");
        expect(error.message).toContain(`"${schema}".wf_schema_version`);
      }
    } finally {
      await storage.close();
    }
    expect(await tablesOf(schema)).toEqual(["wf_schema_version"]);
  });
});
