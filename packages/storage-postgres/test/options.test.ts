import { runOnce } from "@wf/storage-conformance/records";
import { describe, expect, it } from "vitest";
import { PostgresStorage } from "../src/index.js";
import { postgresUrl, testSchema, withSql } from "./helpers.js";

describe("PostgresStorage options", () => {
  it("refuses an unknown option, naming it, instead of writing to the default schema", () => {
    expect(
      () => new PostgresStorage({ connectionString: postgresUrl(), schemaName: "x" } as never),
    ).toThrow(
      /^PostgresStorage does not know the option "schemaName"; it takes connectionString, pool, poolConfig, schema,/,
    );
  });

  it("refuses a connection string where the options object belongs, masking its password", () => {
    expect(() => new PostgresStorage("postgres://u:hunter2@127.0.0.1/db" as never)).toThrow(
      new TypeError(
        'PostgresStorage takes an options object, not a string ("postgres://u:***@127.0.0.1/db"): use PostgresStorage.fromUrl(url) or { connectionString: url }.',
      ),
    );
  });

  it.each([
    "mysql://u:hunter2@127.0.0.1:3306/db",
    "redis://:hunter2@127.0.0.1:6379",
    "http://u:hunter2@127.0.0.1/",
    "127.0.0.1:5432",
    "not a url u:hunter2@host",
  ])("refuses the connection string %s up front, saying what form is expected", (url) => {
    const build = [
      () => new PostgresStorage({ connectionString: url }),
      () => PostgresStorage.fromUrl(url),
    ];
    for (const attempt of build) {
      let error: unknown;
      try {
        attempt();
      } catch (thrown) {
        error = thrown;
      }
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(
        /is not a PostgreSQL URL; expected postgres:\/\/user:password@host:5432\/database/,
      );
      expect((error as Error).message).not.toContain("hunter2");
    }
  });
});

describe("PostgresStorage.fromUrl", () => {
  it("journals a run in the schema of ?schema=, readable through a store made with plain options", async () => {
    const schema = testSchema("from_url");
    const url = new URL(postgresUrl());
    url.searchParams.set("schema", schema);
    const storage = PostgresStorage.fromUrl(url.href.replace(/^postgres:/, "postgresql:"));
    expect(storage.schema).toBe(schema);
    const runId = await runOnce(storage);
    await storage.close();

    const plain = new PostgresStorage({ connectionString: postgresUrl(), schema });
    try {
      expect((await plain.getLatestStep("from-url", runId)).shared).toEqual({ count: 1 });
    } finally {
      await plain.close();
    }
    const rows = await withSql((sql) =>
      sql.query(`SELECT run_id FROM "${schema}".runs WHERE workflow_id = 'from-url'`),
    );
    expect(rows.rows).toEqual([{ run_id: runId }]);
  });

  it("uses the default schema without ?schema=, and passes the other options on", async () => {
    const storage = PostgresStorage.fromUrl(postgresUrl(), { autoMigrate: false });
    expect(storage.schema).toBe("wf");
    await storage.close();
  });

  it("refuses an option the URL already sets, and unknown options", () => {
    const url = `${postgresUrl()}?schema=${testSchema("twice")}`;
    expect(() => PostgresStorage.fromUrl(url, { schema: "other" })).toThrow(
      /already sets `schema`; give it in the URL or in the options, not both/,
    );
    expect(() =>
      PostgresStorage.fromUrl(postgresUrl(), { connectionString: postgresUrl() } as never),
    ).toThrow(/already sets `connectionString`/);
    expect(() => PostgresStorage.fromUrl(postgresUrl(), { schemaName: "x" } as never)).toThrow(
      /does not know the option "schemaName"/,
    );
  });
});
