// `preparedStatements: false` for poolers that cannot keep named statements: the store then
// prepares nothing on its connections and appends, reads and conflicts behave the same.
import { uniqueRunId } from "@wf/storage-conformance/records";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { PostgresStorage } from "../src/index.js";
import { postgresUrl, rejection, sampleRun, sampleStep, testSchema } from "./helpers.js";

/** Named statements the store left on the pool's one connection. */
async function preparedOnConnection(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ name: string }>(
    "SELECT name FROM pg_prepared_statements WHERE name LIKE 'wf_%' ORDER BY name",
  );
  return rows.map((row) => row.name);
}

async function appendThree(preparedStatements: boolean | undefined, label: string) {
  // One connection, so the store's statements and the check run on the same session.
  const pool = new pg.Pool({ connectionString: postgresUrl(), max: 1 });
  const storage = new PostgresStorage({
    pool,
    schema: testSchema(label),
    ...(preparedStatements === undefined ? {} : { preparedStatements }),
  });
  try {
    const runId = uniqueRunId();
    await storage.createRun(sampleRun("w", runId), sampleStep("w", runId, 0));
    await storage.appendStep(sampleStep("w", runId, 1));
    await storage.appendStep(sampleStep("w", runId, 2));
    const conflict = await rejection(storage.appendStep(sampleStep("w", runId, 2)));
    const head = await storage.getLatestStep("w", runId);
    return { prepared: await preparedOnConnection(pool), conflict, head };
  } finally {
    await storage.close();
    await pool.end();
  }
}

describe("preparedStatements", () => {
  it("by default the writes are named prepared statements on the connection", async () => {
    const { prepared, conflict, head } = await appendThree(undefined, "prep_on");
    expect(prepared.length).toBeGreaterThan(0);
    expect(conflict).toMatchObject({ code: "STEP_CONFLICT" });
    expect(head.step).toBe(2);
  });

  it("with false nothing is prepared, and appends, conflicts and reads behave the same", async () => {
    const { prepared, conflict, head } = await appendThree(false, "prep_off");
    expect(prepared).toEqual([]);
    expect(conflict).toMatchObject({ code: "STEP_CONFLICT" });
    expect(head).toEqual(sampleStep("w", head.runId, 2));
  });

  it("refuses a value that is not a boolean", () => {
    expect(
      () =>
        new PostgresStorage({
          connectionString: postgresUrl(),
          preparedStatements: "no" as never,
        }),
    ).toThrow(new TypeError('preparedStatements must be true or false, got "no"'));
  });
});
