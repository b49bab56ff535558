import { PostgresStorage } from "@wf/storage-postgres";
import { inject } from "vitest";
import { PgBossQueue } from "../src/index.js";

let count = 0;

/** Short leases so a crashed worker's jobs come back within seconds. */
export const TEST_LEASE = { expireInSeconds: 2, maintenanceIntervalSeconds: 1, pollIntervalMs: 50 };

/** A queue of its own (unique name) in the run's pg-boss schema. */
export async function freshQueue(): Promise<PgBossQueue> {
  count += 1;
  return new PgBossQueue({
    connectionString: inject("postgresUrl"),
    schema: `${inject("runLabel")}_boss`,
    queueName: `q${process.pid}_${count}`,
    ...TEST_LEASE,
  });
}

export async function freshStorage(): Promise<PostgresStorage> {
  return new PostgresStorage({
    connectionString: inject("postgresUrl"),
    schema: `${inject("runLabel")}_store`,
  });
}
