// The what-if story on the filesystem and on PostgreSQL: the original and both
// forks end as the workflow says they must, the forks carry their lineage,
// and the original's journal is unchanged by them.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "@wf/store-url";
import { findPostgres } from "@wf/test-services/postgres";
import { describe, expect, it } from "vitest";

// The built app, so that `wf --definition` loads the compiled loan.js beside it, as `npm run what-if` does.
const { whatIf } = (await import(
  new URL("../dist/what-if.js", import.meta.url).href
)) as typeof import("../src/what-if.js");

async function story(store: string) {
  const lines: string[] = [];
  const result = await whatIf({
    store,
    answer: "counter",
    changes: { income: 90_000 },
    out: (line) => lines.push(line),
  });
  const storage = await openStore(store);
  try {
    expect(result.original.outcome).toBe("lent 30000 at score 69");
    // A counter-offer of 80% is then approved.
    expect(result.answerFork.outcome).toBe("lent 24000 at score 87");
    expect(result.stateFork.outcome).toBe("lent 30000 at score 100");
    expect(await storage.getRun("loan", result.answerFork.runId)).toMatchObject({
      forkedFrom: { runId: result.original.runId, step: result.answerFork.from },
    });
    expect(await storage.getRun("loan", result.original.runId)).toMatchObject({
      status: "completed",
      headStep: 4,
    });
    // The state change is journalled in the fork, at its first step after the fork point.
    expect((await storage.getStep("loan", result.stateFork.runId, 1)).shared).toMatchObject({
      income: 90_000,
      score: 100,
    });
    const text = lines.join("\n");
    expect(text).toContain("~ shared.amount: 30000 → 24000");
    expect(text).toContain("+ shared.counters: 1");
    expect(text).toContain("~ shared.income: 52000 → 90000");
  } finally {
    await storage.close();
  }
}

describe("what-if", () => {
  it("tells the story on the filesystem", async () => {
    const dir = await mkdtemp(join(tmpdir(), "wf-what-if-"));
    try {
      await story(`file:${dir}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("tells the same story on PostgreSQL with --store", async () => {
    const postgres = await findPostgres();
    const url = new URL(postgres.url);
    url.searchParams.set("schema", `wf_what_if_${process.pid}`);
    try {
      await story(url.href);
    } finally {
      const { default: pg } = await import("pg");
      const client = new pg.Client({ connectionString: postgres.url });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS wf_what_if_${process.pid} CASCADE`);
      await client.end();
      await postgres.stop();
    }
  });
});
