// Test helpers shared by the storage-postgres test files: the server and
// schema of this run, sample records, direct SQL reads, and child processes
// running fixtures against the built package.

import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { StepRecord, WorkflowStorage } from "@wf/core";
import { collectPages } from "@wf/storage-conformance";
import { ChildFixture } from "@wf/test-services";
import pg from "pg";
import { inject } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));

/** Connection string of the server this run uses (from test/global-setup.ts). */
export function postgresUrl(): string {
  return inject("postgresUrl");
}

/** A schema of this run's own, dropped by the global teardown. */
export function testSchema(label: string): string {
  return `${inject("schemaPrefix")}_${label}`;
}

/** Runs `work` with a plain pg client on the test server, to read what the store wrote. */
export async function withSql<T>(
  work: (client: pg.Client) => Promise<T>,
  connectionString = postgresUrl(),
): Promise<T> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export { rejection, sampleRun, sampleStep } from "@wf/storage-conformance";

/** Every record the store holds for a run, through every page of listSteps. */
export function allSteps(
  storage: WorkflowStorage,
  workflowId: string,
  runId: string,
): Promise<StepRecord[]> {
  return collectPages((cursor) => storage.listSteps(workflowId, runId, { cursor, limit: 50 }));
}

/** A fixture script of test/fixtures in a child process; fixtures import the built package. */
export class Fixture extends ChildFixture {
  constructor(script: string, args: string[] = []) {
    const built = join(here, "..", "dist", "index.js");
    if (!existsSync(built)) {
      throw new Error(`Fixtures import the built package: run \`npm run build\` first (${built}).`);
    }
    super(join(here, "fixtures", script), args);
  }
}
