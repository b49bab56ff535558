// wf copy's engine streams: it never holds more than one page of runs and one
// page of records of the run it copies, however many runs and steps there
// are. Counted, not measured: wrappers count what the source handed out and
// what the copy has finished with, at every listing call. Also: a destination
// that does not keep what it is given fails verification.
import { MemoryStorage, type StepRecord, type WorkflowStorage } from "@wf/core";
import { sampleRun, sampleStep } from "@wf/storage-conformance/records";
import { describe, expect, it } from "vitest";
import { copyJournals } from "../src/copy.js";

/** The conformance suite's builders, with the given times and a padded state. */
const metadata = (workflowId: string, runId: string, createdAt: string) =>
  sampleRun(workflowId, runId, { createdAt });
const record = (workflowId: string, runId: string, step: number, createdAt: string) =>
  sampleStep(workflowId, runId, step, { createdAt, shared: { step, padding: "x".repeat(100) } });

const at = (n: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, 0, n)).toISOString();

/** `runs` runs of `steps(i)` records each, over two workflows, written through the contract. */
async function seed(
  store: WorkflowStorage,
  runs: number,
  steps: (i: number) => number,
): Promise<number> {
  let total = 0;
  for (let i = 0; i < runs; i++) {
    const workflowId = i % 2 ? "odd" : "even";
    const runId = `run-${String(i).padStart(4, "0")}`;
    await store.createRun(
      metadata(workflowId, runId, at(i * 1000)),
      record(workflowId, runId, 0, at(i * 1000)),
    );
    for (let step = 1; step < steps(i); step++) {
      await store.appendStep(record(workflowId, runId, step, at(i * 1000 + step)));
    }
    total += steps(i);
  }
  return total;
}

/**
 * Wraps the source: counts the records and runs it handed out, and at every
 * listing call checks how many of those the copy has not finished with yet.
 */
function watchedSource(inner: WorkflowStorage, finished: { records: number; runs: number }) {
  const seen = {
    records: 0,
    runs: 0,
    maxRecordsHeld: 0,
    maxRunsHeld: 0,
    stepLimits: new Set<number>(),
    runLimits: new Set<number>(),
  };
  const storage = new Proxy(inner, {
    get(target, property) {
      const value = Reflect.get(target, property);
      if (typeof value !== "function") return value;
      if (property === "listSteps") {
        return async (w: string, r: string, options: { limit?: number }) => {
          seen.stepLimits.add(options.limit ?? 100);
          // Before a new page arrives, every record handed out so far is written.
          expect(seen.records - finished.records).toBe(0);
          const page = await value.call(target, w, r, options);
          seen.records += page.items.length;
          seen.maxRecordsHeld = Math.max(seen.maxRecordsHeld, seen.records - finished.records);
          return page;
        };
      }
      if (property === "listRuns") {
        return async (w: string, options: { limit?: number }) => {
          seen.runLimits.add(options.limit ?? 100);
          expect(seen.runs - finished.runs).toBe(0);
          const page = await value.call(target, w, options);
          seen.runs += page.items.length;
          seen.maxRunsHeld = Math.max(seen.maxRunsHeld, seen.runs - finished.runs);
          return page;
        };
      }
      return value.bind(target);
    },
  });
  return { storage, seen };
}

/** Wraps the destination: counts acknowledged writes. */
function countedDestination(
  inner: WorkflowStorage,
  finished: { records: number },
): WorkflowStorage {
  return new Proxy(inner, {
    get(target, property) {
      const value = Reflect.get(target, property);
      if (typeof value !== "function") return value;
      if (property !== "createRun" && property !== "appendStep") return value.bind(target);
      return async (...args: unknown[]) => {
        await value.apply(target, args);
        finished.records += 1;
      };
    },
  });
}

describe("copyJournals holds one page at a time", () => {
  it("of runs and of records, for many runs and a long run, counting pass included", async () => {
    const source = new MemoryStorage();
    // 57 runs of 1 to 19 steps, and one of 500.
    const total = await seed(source, 58, (i) => (i === 40 ? 500 : (i % 19) + 1));
    const finished = { records: 0, runs: 0 };
    const { storage, seen } = watchedSource(source, finished);
    const destination = new MemoryStorage();
    const report = await copyJournals({
      from: storage,
      to: countedDestination(destination, finished),
      stepPageSize: 7,
      runPageSize: 5,
      onProgress: (progress) => {
        // Runs listed by the counting pass are let go at once; in the copy, once their result is in.
        finished.runs =
          progress.phase === "counting"
            ? progress.runsTotal
            : progress.runsTotal + progress.runsDone;
      },
    });
    expect(report.problems).toEqual([]);
    expect(report.totals).toMatchObject({ runs: 58, copied: 58, steps: total, stepsCopied: total });
    expect(seen.records).toBe(total);
    expect(seen.runs).toBe(2 * 58);
    expect(seen.maxRecordsHeld).toBe(7);
    expect(seen.maxRunsHeld).toBe(5);
    expect([...seen.stepLimits]).toEqual([7]);
    expect([...seen.runLimits]).toEqual([5]);
  });
});

describe("copyJournals compares a page at a time", () => {
  it("when it resumes runs whose first steps the destination holds", async () => {
    const source = new MemoryStorage();
    const total = await seed(source, 12, (i) => (i === 5 ? 300 : 4));
    const destination = new MemoryStorage();
    // The destination holds the first 250 steps of the long run and 2 of another, as an interrupted copy leaves them.
    for (const [workflowId, runId, count] of [
      ["odd", "run-0005", 250],
      ["even", "run-0002", 2],
    ] as const) {
      const page = await source.listSteps(workflowId, runId, { limit: count });
      const [first, ...rest] = page.items as [StepRecord, ...StepRecord[]];
      await destination.createRun(metadata(workflowId, runId, first.createdAt), first);
      for (const step of rest) await destination.appendStep(step);
    }
    // Compared steps count as finished too: progress.stepsDone counts them with the written ones.
    const finished = { records: 0, runs: 0 };
    const { storage, seen } = watchedSource(source, finished);
    const destinationLimits = new Set<number>();
    const watchedDestination = new Proxy(destination, {
      get(target, property) {
        const value = Reflect.get(target, property);
        if (typeof value !== "function") return value;
        if (property !== "listSteps") return value.bind(target);
        return (w: string, r: string, options: { limit?: number }) => {
          destinationLimits.add(options.limit ?? 100);
          return value.call(target, w, r, options);
        };
      },
    });
    const report = await copyJournals({
      from: storage,
      to: watchedDestination,
      stepPageSize: 7,
      runPageSize: 5,
      count: false,
      collectRuns: true,
      onProgress: (progress) => {
        finished.records = progress.stepsDone;
        finished.runs = progress.runsDone;
      },
    });
    expect(report.problems).toEqual([]);
    expect(report.totals).toMatchObject({
      runs: 12,
      copied: 10,
      resumed: 2,
      stepsCopied: total - 252,
    });
    expect(
      report.runs
        .filter((r) => r.outcome === "resumed")
        .map((r) => r.runId)
        .sort(),
    ).toEqual(["run-0002", "run-0005"]);
    expect(seen.records).toBe(total);
    expect(seen.maxRecordsHeld).toBe(7);
    expect(seen.maxRunsHeld).toBe(5);
    expect([...destinationLimits]).toEqual([7]);
  });
});

describe("copyJournals verifies what it wrote", () => {
  it("a destination that changes a record on the way is reported as verify-failed", async () => {
    const source = new MemoryStorage();
    await seed(source, 2, () => 3);
    const lossy = new Proxy(new MemoryStorage(), {
      get(target, property) {
        const value = Reflect.get(target, property);
        if (typeof value !== "function") return value;
        if (property !== "appendStep") return value.bind(target);
        // Keeps every record but the last of run-0001 with its state changed.
        return (step: StepRecord) =>
          value.call(
            target,
            step.runId === "run-0001" && step.step === 2
              ? { ...step, shared: { lost: true } }
              : step,
          );
      },
    });
    const report = await copyJournals({ from: source, to: lossy });
    expect(report.totals).toMatchObject({ runs: 2, copied: 1, verifyFailed: 1 });
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toMatchObject({ runId: "run-0001", outcome: "verify-failed" });
    expect(report.problems[0]?.reason).toContain("does not keep records exactly");
  });
});
