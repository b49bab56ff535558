// Constructing and closing a store: a pool handed over is borrowed and never
// ended; a pool the store opened is ended by close(), letting the process
// exit; the schema name is held to a plain identifier.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { PostgresStorage } from "../src/index.js";
import {
  Fixture,
  postgresUrl,
  rejection,
  sampleRun,
  sampleStep,
  testSchema,
  withSql,
} from "./helpers.js";

const HOSTILE_SCHEMAS = [
  "",
  "wf; DROP SCHEMA public CASCADE; --",
  'wf"; DROP SCHEMA public CASCADE; --',
  '"wf"',
  "wf.runs",
  "a-b",
  "a b",
  "1wf",
  "pg_catalog",
  "PG_temp",
  "ünïcödé",
  "x".repeat(64),
  "wf\u0000",
];

describe("pools and closing", () => {
  it("close() leaves a pool handed to the store open and usable", async () => {
    const pool = new pg.Pool({ connectionString: postgresUrl(), max: 2 });
    pool.on("error", () => {});
    try {
      const storage = new PostgresStorage({ pool, schema: testSchema("handed") });
      await storage.createRun(sampleRun("handed", "r1"), sampleStep("handed", "r1", 0));
      await storage.close();
      await storage.close();
      expect((await rejection(storage.getRun("handed", "r1"))).code).toBe("STORAGE_CLOSED");
      const { rows } = await pool.query<{ one: number }>("SELECT 1 AS one");
      expect(rows).toEqual([{ one: 1 }]);
      expect(pool.ending).toBe(false);
      // The store's writes went through the handed pool into its schema.
      const another = new PostgresStorage({ pool, schema: testSchema("handed") });
      expect((await another.getRun("handed", "r1")).headStep).toBe(0);
      await another.close();
    } finally {
      await pool.end();
    }
  });

  it("close() of a store that opened its own pool ends its connections and lets the process exit", async () => {
    const applicationName = `wf-exit-${randomBytes(4).toString("hex")}`;
    const child = new Fixture("close-and-exit.mjs", [
      postgresUrl(),
      testSchema("exit"),
      applicationName,
    ]);
    // A child that does not exit by itself is killed and fails the test.
    const lines = await child.finished(30_000);
    expect(JSON.parse(lines.at(-1) as string)).toEqual({ sessions: 0 });
  });

  it("a store needs a connection string, a pool config or a pool, and not both a pool and a connection string", () => {
    expect(() => new PostgresStorage({})).toThrow(TypeError);
    const pool = new pg.Pool({ connectionString: postgresUrl() });
    expect(() => new PostgresStorage({ pool, connectionString: postgresUrl() })).toThrow(TypeError);
    return pool.end();
  });

  it("non-positive pool sizes and timeouts are refused with a RangeError", () => {
    const connectionString = postgresUrl();
    for (const option of ["maxConnections", "connectionTimeoutMillis", "queryTimeoutMillis"]) {
      for (const value of [0, -1, 1.5, Number.NaN]) {
        expect(
          () => new PostgresStorage({ connectionString, [option]: value }),
          `${option}: ${value}`,
        ).toThrow(RangeError);
      }
    }
  });
});

describe("schema names", () => {
  it("hostile schema names are refused with a TypeError before anything reaches the server", async () => {
    const before = await withSql(
      async (sql) => (await sql.query("SELECT nspname FROM pg_namespace ORDER BY 1")).rows,
    );
    for (const schema of HOSTILE_SCHEMAS) {
      expect(
        () => new PostgresStorage({ connectionString: postgresUrl(), schema }),
        JSON.stringify(schema),
      ).toThrow(TypeError);
    }
    const after = await withSql(
      async (sql) => (await sql.query("SELECT nspname FROM pg_namespace ORDER BY 1")).rows,
    );
    expect(after).toEqual(before);
  });

  it("a mixed-case schema name is kept as written, quoted, and separate from its lower-case twin", async () => {
    const mixed = testSchema("MixedCase");
    const lower = mixed.toLowerCase();
    const a = new PostgresStorage({ connectionString: postgresUrl(), schema: mixed });
    const b = new PostgresStorage({ connectionString: postgresUrl(), schema: lower });
    try {
      await a.createRun(sampleRun("case", "r1"), sampleStep("case", "r1", 0));
      expect((await b.listRuns("case")).items).toEqual([]);
      const names = await withSql(async (sql) => {
        const { rows } = await sql.query<{ nspname: string }>(
          "SELECT nspname FROM pg_namespace WHERE lower(nspname) = $1 ORDER BY nspname",
          [lower],
        );
        return rows.map((row) => row.nspname);
      });
      expect(names).toEqual([mixed, lower].sort());
    } finally {
      await a.close();
      await b.close();
    }
  });
});
