// wf copy's progress on stderr: a bar with runs, steps, rate and ETA on a
// terminal; elsewhere plain lines, at most one a second (on a fake clock
// here), one on each phase change and a final one.
import { Writable } from "node:stream";
import { MemoryStorage, type RunMetadata, type StepRecord } from "@wf/core";
import { describe, expect, it } from "vitest";
import { copyJournals } from "../src/copy.js";
import { createCopyProgressReporter, formatProgressLine } from "../src/copy-progress.js";
import type { CopyProgress } from "../src/copy-report.js";

/** A stream that keeps what is written; a terminal when `tty`. */
function collector(tty: boolean): Writable & { text: string; isTTY?: boolean; columns?: number } {
  const stream = new Writable({
    write(chunk, _encoding, done) {
      stream.text += String(chunk);
      done();
    },
  }) as Writable & { text: string; isTTY?: boolean; columns?: number };
  stream.text = "";
  if (tty) Object.assign(stream, { isTTY: true, columns: 160 });
  return stream;
}

const base: CopyProgress = {
  phase: "copying",
  runsTotal: 10,
  stepsTotal: 1000,
  totalsKnown: true,
  runsDone: 2,
  stepsDone: 250,
  stepsCopied: 200,
  current: { workflowId: "w", runId: "r" },
  elapsedMs: 5000,
};

describe("plain progress lines", () => {
  it("say runs and steps done of the totals, the rates and the ETA", () => {
    expect(formatProgressLine(base)).toBe(
      "copy: 2/10 runs, 250/1000 steps (200 written), 0.4 runs/s, 50 steps/s, ETA 15s",
    );
    expect(formatProgressLine({ ...base, phase: "counting", runsTotal: 4, stepsTotal: 40 })).toBe(
      "copy: counting: 4 runs, 40 steps so far",
    );
    expect(formatProgressLine({ ...base, totalsKnown: false })).toBe(
      "copy: 2 runs, 250 steps (200 written), 0.4 runs/s, 50 steps/s",
    );
    expect(formatProgressLine({ ...base, phase: "done", elapsedMs: 125_000 })).toBe(
      "copy: done: 2/10 runs, 250/1000 steps (200 written), 0.0 runs/s, 2 steps/s, took 2m05s",
    );
  });

  it("are written at most once per interval, on each phase change, and once at the end", () => {
    const stream = collector(false);
    let now = 0;
    const reporter = createCopyProgressReporter(stream, { intervalMs: 1000, now: () => now });
    const at = (time: number, progress: Partial<CopyProgress>) => {
      now = time;
      reporter.onProgress({ ...base, ...progress });
    };
    at(0, { phase: "counting", runsTotal: 1, stepsTotal: 5 });
    at(500, { phase: "counting", runsTotal: 2, stepsTotal: 9 });
    at(600, { stepsDone: 1 });
    at(1200, { stepsDone: 2 });
    at(1700, { stepsDone: 3 });
    reporter.note("conflict: w/r: why");
    at(1800, { phase: "done", stepsDone: 4 });
    reporter.finish();
    reporter.finish();
    expect(stream.text.split("\n").filter(Boolean)).toEqual([
      "copy: counting: 1 runs, 5 steps so far",
      "copy: 2/10 runs, 1/1000 steps (200 written), 0.4 runs/s, 0 steps/s, ETA 1h23m15s",
      "copy: 2/10 runs, 3/1000 steps (200 written), 0.4 runs/s, 1 steps/s, ETA 27m42s",
      "conflict: w/r: why",
      "copy: done: 2/10 runs, 4/1000 steps (200 written), 0.4 runs/s, 1 steps/s, took 5s",
    ]);
  });
});

describe("the progress bar", () => {
  it("is drawn on a terminal with runs, steps, rate and ETA, and stops at finish", () => {
    const stream = collector(true);
    const reporter = createCopyProgressReporter(stream);
    reporter.onProgress({ ...base, phase: "counting", runsTotal: 3, stepsTotal: 30, stepsDone: 0 });
    reporter.note("conflict: w/r: the destination holds a different run");
    reporter.onProgress({ ...base, stepsDone: 1000, runsDone: 10 });
    reporter.finish();
    expect(stream.text).toContain("conflict: w/r: the destination holds a different run\n");
    expect(stream.text).toContain("copy ");
    expect(stream.text).toContain("10/10 runs | 1000/1000 steps | 2.0 runs/s, 200 steps/s | ETA");
    // The cursor is hidden while drawing and shown again at the end.
    expect(stream.text).toContain("\x1B[?25l");
    expect(stream.text.endsWith("\x1B[?25h") || stream.text.includes("\x1B[?25h")).toBe(true);
  });

  it("is not used when the stream is not a terminal", () => {
    const stream = collector(false);
    const reporter = createCopyProgressReporter(stream);
    reporter.onProgress(base);
    reporter.finish();
    expect(stream.text).not.toContain("\x1B");
    expect(stream.text).toMatch(/^copy: /);
  });
});

describe("a copy reporting its progress", () => {
  it("ends with a line of the totals", async () => {
    const source = new MemoryStorage();
    const createdAt = "2026-01-01T00:00:00.000Z";
    const run: RunMetadata = {
      formatVersion: 1,
      workflowId: "w",
      runId: "r",
      createdAt,
      updatedAt: createdAt,
      status: "running",
      headStep: 0,
      forkedFrom: null,
      definition: { start: "a", nodes: [{ id: "a", type: "A" }], edges: [], hash: "0".repeat(64) },
    };
    const first: StepRecord = {
      formatVersion: 1,
      workflowId: "w",
      runId: "r",
      step: 0,
      parent: null,
      createdAt,
      status: "running",
      nodeStatuses: {},
      nodeTypes: {},
      shared: {},
      previousNodeId: null,
      nextNodeId: "a",
      awaitingInput: null,
      inputs: {},
      error: null,
    };
    await source.createRun(run, first);
    await source.appendStep({
      ...first,
      step: 1,
      parent: 0,
      status: "completed",
      nextNodeId: null,
    });
    const stream = collector(false);
    const reporter = createCopyProgressReporter(stream);
    await copyJournals({ from: source, to: new MemoryStorage(), onProgress: reporter.onProgress });
    reporter.finish();
    const lines = stream.text.split("\n").filter(Boolean);
    expect(lines[0]).toBe("copy: counting: 1 runs, 2 steps so far");
    expect(lines.at(-1)).toMatch(/^copy: done: 1\/1 runs, 2\/2 steps \(2 written\), .* took \d+s$/);
  });
});
