// wf copy's --workflow and --run: only that workflow's runs, or only that
// run and the runs it was forked from (so its history reads the same in the
// destination), oldest first.
import { MemoryStorage } from "@wf/core";
import { describe, expect, it } from "vitest";
import { type CopyProgress, copyJournals, type RunCopyResult } from "../src/copy.js";
import { readStore, seedJournals } from "./fixtures/copy-stores.js";

describe("copyJournals with a filter", () => {
  it("workflowId copies that workflow's runs only", async () => {
    const source = new MemoryStorage();
    const seeded = await seedJournals(source);
    const destination = new MemoryStorage();
    const report = await copyJournals({ from: source, to: destination, workflowId: "copy-main" });
    expect(report.totals).toMatchObject({ runs: 5, copied: 5 });
    const copied = await readStore(destination);
    expect(copied.map((entry) => entry.run.workflowId)).toEqual(Array(5).fill("copy-main"));
    expect(copied.map((entry) => entry.run.runId).sort()).toEqual(
      [seeded.resumed, seeded.fork, seeded.forkOfFork, seeded.waiting, seeded.failed].sort(),
    );
    expect(copied).toEqual(
      (await readStore(source)).filter((entry) => entry.run.workflowId === "copy-main"),
    );
  });

  it("runId copies that run after the runs it was forked from, source first", async () => {
    const source = new MemoryStorage();
    const seeded = await seedJournals(source);
    const destination = new MemoryStorage();
    const results: RunCopyResult[] = [];
    let last: CopyProgress | undefined;
    const report = await copyJournals({
      from: source,
      to: destination,
      workflowId: "copy-main",
      runId: seeded.forkOfFork,
      onRun: (result) => results.push(result),
      onProgress: (progress) => {
        if (progress.phase === "done") last = progress;
      },
    });
    expect(last).toMatchObject({ runsTotal: 3, runsDone: 3 });
    expect(last?.stepsTotal).toBe(last?.stepsDone);
    expect(report.problems).toEqual([]);
    expect(results.map((r) => [r.runId, r.outcome])).toEqual([
      [seeded.resumed, "copied"],
      [seeded.fork, "copied"],
      [seeded.forkOfFork, "copied"],
    ]);
    const wanted = new Set([seeded.resumed, seeded.fork, seeded.forkOfFork]);
    expect(await readStore(destination)).toEqual(
      (await readStore(source)).filter((entry) => wanted.has(entry.run.runId)),
    );
    // Copied again: only the run asked for is looked at, and it is there already.
    const again = await copyJournals({
      from: source,
      to: destination,
      workflowId: "copy-main",
      runId: seeded.forkOfFork,
    });
    expect(again.totals).toMatchObject({ runs: 1, alreadyCopied: 1, stepsCopied: 0 });
  });
});
