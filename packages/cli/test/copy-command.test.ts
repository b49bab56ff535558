// `wf copy` as people and scripts run it: a summary line, a second copy that
// says there is nothing to copy, progress lines on stderr when it is not a
// terminal, and the --json report; a conflict in the destination exits 1.
import type { WorkflowStorage } from "@wf/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Seeded, seed, wf } from "./helpers.js";
import { makeStore, type TestStore } from "./stores.js";

describe("wf copy", () => {
  let source: TestStore;
  let target: TestStore;
  let runs: Seeded;
  let destination: WorkflowStorage;

  beforeAll(async () => {
    source = await makeStore("fs");
    target = await makeStore("postgres");
    const storage = await source.open();
    runs = await seed(storage);
    await storage.close();
    destination = await target.open();
  });
  afterAll(async () => {
    await destination?.close();
    await source?.dispose();
    await target?.dispose();
  });

  it("copies every run, prints progress lines and a summary, then copies nothing the second time", async () => {
    const first = await wf(source.url, ["copy", "--from", source.url, "--to", target.url]);
    expect(first.stderr).toMatch(/^copy: counting: /m);
    expect(first.stderr).toMatch(/^copy: done: /m);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/5 copied/);
    const copied = await destination.getRun("approval", runs.fork);
    expect(copied.forkedFrom).toEqual({ runId: runs.completed, step: 2 });
    expect(
      (await destination.listSteps("approval", runs.resumed)).items.map((record) => record.step),
    ).toEqual([0, 1, 2, 3, 4, 5]);
    const second = await wf(source.url, [
      "copy",
      "--from",
      source.url,
      "--to",
      target.url,
      "--json",
    ]);
    expect(second.code).toBe(0);
    const report = second.json<{
      totals: { alreadyCopied: number; stepsCopied: number };
      runs: { outcome: string }[];
    }>();
    expect(report.totals).toMatchObject({ alreadyCopied: 5, stepsCopied: 0 });
    expect(report.runs.map((run) => run.outcome)).toEqual(Array(5).fill("already-copied"));
    const text = await wf(source.url, ["copy", "--from", source.url, "--to", target.url]);
    expect(text.stdout).toContain("nothing to copy");
  });

  it("reports a run that differs in the destination, leaves it alone and exits 1", async () => {
    await destination.deleteRun("approval", runs.waiting);
    const other = await source.open();
    // A different run under the same id: the destination gets the failed run's first record renamed.
    const failedRun = await other.getRun("approval", runs.failed);
    const failedFirst = await other.getStep("approval", runs.failed, 0);
    await other.close();
    await destination.createRun(
      {
        ...failedRun,
        runId: runs.waiting,
        headStep: 0,
        status: "running",
        updatedAt: failedFirst.createdAt,
      },
      { ...failedFirst, runId: runs.waiting },
    );
    const before = await destination.listSteps("approval", runs.waiting);
    const result = await wf(source.url, ["copy", "--from", source.url, "--to", target.url]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`conflict: approval/${runs.waiting}`);
    expect(result.stderr).toContain("never overwritten");
    expect(await destination.listSteps("approval", runs.waiting)).toEqual(before);
  });
});
