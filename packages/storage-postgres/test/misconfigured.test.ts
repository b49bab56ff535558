// Failures that retrying cannot fix (a missing database, an unknown role, a
// role without privileges, a table or schema dropped under the store) are
// STORAGE_MISCONFIGURED with the driver's error as cause and a message saying
// what to check; failures that may pass later stay STORAGE_UNAVAILABLE.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { asStorageError } from "../src/driver-errors.js";
import { PostgresStorage } from "../src/index.js";
import {
  postgresUrl,
  rejection,
  sampleRun,
  sampleStep,
  seedRun,
  testSchema,
  withSql,
} from "./helpers.js";

/** The test server's URL with `change` applied (another database, another user). */
function urlWith(change: (url: URL) => void): string {
  const url = new URL(postgresUrl());
  change(url);
  return url.toString();
}

function causeCode(error: Error): unknown {
  return (error.cause as { code?: unknown } | undefined)?.code;
}

describe("permanent failures are STORAGE_MISCONFIGURED", () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function open(options: ConstructorParameters<typeof PostgresStorage>[0]): PostgresStorage {
    const storage = new PostgresStorage(options);
    cleanups.push(() => storage.close());
    return storage;
  }

  it("a database that does not exist, saying to check the database name", async () => {
    const database = `wf_missing_${randomBytes(4).toString("hex")}`;
    const storage = open({ connectionString: urlWith((url) => (url.pathname = `/${database}`)) });
    for (const call of [() => storage.getRun("wf", "r1"), () => storage.migrate()]) {
      const error = await rejection(call());
      expect(error.code).toBe("STORAGE_MISCONFIGURED");
      expect(causeCode(error)).toBe("3D000");
      expect(error.message).toContain(database);
      expect(error.message).toMatch(/check the database name/);
    }
  });

  it("a role the server does not know, saying to check the user", async () => {
    const role = `wf_nobody_${randomBytes(4).toString("hex")}`;
    const storage = open({ connectionString: urlWith((url) => (url.username = role)) });
    const error = await rejection(storage.listWorkflows());
    expect(error.code).toBe("STORAGE_MISCONFIGURED");
    expect(causeCode(error)).toBe("28000");
    expect(error.message).toMatch(/check the user/);
  });

  it("a role without privileges on the schema, saying what to grant, and nothing is written", async () => {
    const schema = testSchema("no_rights");
    const owner = open({ connectionString: postgresUrl(), schema });
    await seedRun(owner, "rights", 0, "r1");
    const role = `${testSchema("role")}_${randomBytes(2).toString("hex")}`;
    await withSql((sql) => sql.query(`CREATE ROLE "${role}" LOGIN`));
    cleanups.push(() => withSql((sql) => sql.query(`DROP ROLE IF EXISTS "${role}"`)));

    const stranger = open({
      connectionString: urlWith((url) => (url.username = role)),
      schema,
      poolConfig: { max: 1 },
    });
    const read = await rejection(stranger.getRun("rights", "r1"));
    expect(read.code).toBe("STORAGE_MISCONFIGURED");
    expect(causeCode(read)).toBe("42501");
    expect(read.message).toMatch(/GRANT USAGE ON SCHEMA/);

    // With USAGE but no table privileges, the write is refused the same way.
    await withSql((sql) => sql.query(`GRANT USAGE ON SCHEMA "${schema}" TO "${role}"`));
    cleanups.push(() =>
      withSql((sql) => sql.query(`REVOKE ALL ON SCHEMA "${schema}" FROM "${role}"`)),
    );
    const written = await rejection(
      stranger.createRun(sampleRun("rights", "r2"), sampleStep("rights", "r2", 0)),
    );
    expect(written.code).toBe("STORAGE_MISCONFIGURED");
    expect(causeCode(written)).toBe("42501");
    expect((await rejection(owner.getRun("rights", "r2"))).code).toBe("RUN_NOT_FOUND");

    // Creating a schema of its own needs CREATE on the database, which the role lacks.
    const creator = open({
      connectionString: urlWith((url) => (url.username = role)),
      schema: testSchema("no_rights_new"),
    });
    const created = await rejection(creator.listWorkflows());
    expect(created.code).toBe("STORAGE_MISCONFIGURED");
    expect(causeCode(created)).toBe("42501");
  });

  it("a table dropped under a store already in use, then the whole schema, saying which schema to check", async () => {
    const schema = testSchema("dropped");
    const storage = open({ connectionString: postgresUrl(), schema });
    const runId = await seedRun(storage, "dropped", 1);
    await withSql((sql) => sql.query(`DROP TABLE "${schema}".steps`));
    const step = await rejection(storage.getStep("dropped", runId, 1));
    expect(step.code).toBe("STORAGE_MISCONFIGURED");
    expect(causeCode(step)).toBe("42P01");
    expect(step.message).toContain(`schema "${schema}"`);

    await withSql((sql) => sql.query(`DROP SCHEMA "${schema}" CASCADE`));
    const run = await rejection(storage.getRun("dropped", runId));
    expect(run.code).toBe("STORAGE_MISCONFIGURED");
    expect(["42P01", "3F000"]).toContain(causeCode(run));
  });
});

describe("failures that may pass later stay STORAGE_UNAVAILABLE", () => {
  it("a session the administrator terminates mid-statement (57P01) is STORAGE_UNAVAILABLE, and the store works again after", async () => {
    const schema = testSchema("terminated");
    const applicationName = `wf-terminated-${randomBytes(4).toString("hex")}`;
    const storage = new PostgresStorage({
      connectionString: postgresUrl(),
      schema,
      poolConfig: { application_name: applicationName },
    });
    const locker = new pg.Client({ connectionString: postgresUrl() });
    await locker.connect();
    try {
      const runId = await seedRun(storage, "terminated", 0);
      await locker.query("BEGIN");
      await locker.query(
        `SELECT 1 FROM "${schema}".runs WHERE workflow_id = 'terminated' FOR UPDATE`,
      );
      const append = rejection(storage.appendStep(sampleStep("terminated", runId, 1)));
      // Wait (bounded) for the append to block on the row lock, then end its session.
      let terminated = false;
      for (let i = 0; i < 200 && !terminated; i++) {
        const { rows } = await locker.query(
          `SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity
           WHERE application_name = $1 AND wait_event_type = 'Lock'`,
          [applicationName],
        );
        terminated = rows.length > 0;
        if (!terminated) await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(terminated).toBe(true);
      const error = await append;
      expect(error.code).toBe("STORAGE_UNAVAILABLE");
      expect(causeCode(error)).toBe("57P01");
      await locker.query("ROLLBACK");
      await storage.appendStep(sampleStep("terminated", runId, 1));
      expect((await storage.getRun("terminated", runId)).headStep).toBe(1);
    } finally {
      await locker.end();
      await storage.close();
    }
  });

  it("SQLSTATEs of passing trouble are STORAGE_UNAVAILABLE; refusals that stay are STORAGE_MISCONFIGURED", () => {
    const transient = [
      "57P01",
      "57P02",
      "57P03",
      "53300",
      "40001",
      "40P01",
      "57014",
      "55P03",
      "08006",
    ];
    const permanent = [
      "3D000",
      "28000",
      "28P01",
      "42501",
      "42P01",
      "3F000",
      "42P07",
      "57P04",
      "0A000",
    ];
    for (const code of transient) {
      const error = Object.assign(new Error(`server says ${code}`), { code });
      const mapped = asStorageError(error, "wf") as Error & { code?: string };
      expect(mapped.code, code).toBe("STORAGE_UNAVAILABLE");
    }
    for (const code of permanent) {
      const error = Object.assign(new Error(`server says ${code}`), { code });
      const mapped = asStorageError(error, "wf") as Error & { code?: string };
      expect(mapped.code, code).toBe("STORAGE_MISCONFIGURED");
      expect(mapped.cause, code).toBe(error);
    }
  });
});
