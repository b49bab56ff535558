// Bounded failures: nothing listening, a server that accepts connections but
// never answers, and a statement stuck behind a lock all end in
// STORAGE_UNAVAILABLE instead of a hang, and leave nothing half-written.
import { createServer, type Server, type Socket } from "node:net";
import { freePort } from "@wf/test-services";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { PostgresStorage } from "../src/index.js";
import {
  allSteps,
  postgresUrl,
  rejection,
  sampleRun,
  sampleStep,
  testSchema,
  withSql,
} from "./helpers.js";

/** A TCP server that accepts connections and never says a word. */
async function silentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no port");
  return {
    url: `postgres://postgres@127.0.0.1:${address.port}/postgres`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("bounded failures", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("a port where no server listens gives STORAGE_UNAVAILABLE", async () => {
    const port = await freePort();
    const storage = new PostgresStorage({
      connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`,
    });
    cleanups.push(() => storage.close());
    const error = await rejection(storage.getRun("wf", "run"));
    expect(error.code).toBe("STORAGE_UNAVAILABLE");
    expect(error.message).toContain("ECONNREFUSED");
  });

  it("a server that accepts connections but never answers gives STORAGE_UNAVAILABLE after the connect timeout, not a hang", async () => {
    const silent = await silentServer();
    cleanups.push(() => silent.close());
    const storage = new PostgresStorage({
      connectionString: silent.url,
      connectionTimeoutMillis: 300,
    });
    cleanups.push(() => storage.close());
    expect((await rejection(storage.listWorkflows())).code).toBe("STORAGE_UNAVAILABLE");
    expect((await rejection(storage.getRun("wf", "run"))).code).toBe("STORAGE_UNAVAILABLE");
  });

  it("a handed pool without a connect timeout of its own is still bounded by connectionTimeoutMillis", async () => {
    const silent = await silentServer();
    cleanups.push(() => silent.close());
    const pool = new pg.Pool({ connectionString: silent.url });
    pool.on("error", () => {});
    const storage = new PostgresStorage({ pool, connectionTimeoutMillis: 300 });
    cleanups.push(async () => {
      await storage.close();
      // The pool's own connection attempts end when the silent server closes their sockets.
      await silent.close();
      await pool.end();
    });
    expect((await rejection(storage.listWorkflows())).code).toBe("STORAGE_UNAVAILABLE");
  });

  it("an append stuck behind a lock fails with STORAGE_UNAVAILABLE after queryTimeoutMillis and writes nothing", async () => {
    const connectionString = postgresUrl();
    const schema = testSchema("timeouts");
    const storage = new PostgresStorage({ connectionString, schema, queryTimeoutMillis: 500 });
    cleanups.push(() => storage.close());
    await storage.createRun(sampleRun("locked", "r1"), sampleStep("locked", "r1", 0));

    const locker = new pg.Client({ connectionString });
    await locker.connect();
    cleanups.push(() => locker.end());
    await locker.query("BEGIN");
    await locker.query(
      `SELECT 1 FROM "${schema}".runs WHERE workflow_id = 'locked' AND run_id = 'r1' FOR UPDATE`,
    );
    const error = await rejection(storage.appendStep(sampleStep("locked", "r1", 1)));
    expect(error.code).toBe("STORAGE_UNAVAILABLE");
    expect(error.message).toContain("SQLSTATE 57014");
    await locker.query("ROLLBACK");

    expect((await storage.getRun("locked", "r1")).headStep).toBe(0);
    expect((await allSteps(storage, "locked", "r1")).map((s) => s.step)).toEqual([0]);
    await storage.appendStep(sampleStep("locked", "r1", 1));
    const stored = await withSql(async (sql) => {
      const { rows } = await sql.query<{ step: number }>(
        `SELECT step FROM "${schema}".steps WHERE workflow_id = 'locked' ORDER BY step`,
      );
      return rows.map((row) => row.step);
    });
    expect(stored).toEqual([0, 1]);
  });
});
