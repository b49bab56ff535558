// Conditional append across processes: two child processes, each with eight
// concurrent appenders, race on one run until it has 200 steps. Every step
// must exist exactly once, whole, with no gap, and the appends the children
// report as successful must add up to exactly 200.
import { readdir } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { FileSystemStorage } from "../src/index.js";
import { RunPaths } from "../src/layout.js";
import { allSteps, Fixture, sampleRun, sampleStep, useTempDir } from "./helpers.js";

const TARGET = 200;
const APPENDERS_PER_PROCESS = 8;

describe("appenders racing across processes", () => {
  const tempDir = useTempDir("race");

  it(`two processes with ${APPENDERS_PER_PROCESS} appenders each write steps 1..${TARGET} exactly once`, async () => {
    const dir = tempDir();
    const workflowId = "race";
    const runId = "20260101_000000_000_000000000002";
    const storage = new FileSystemStorage({ dir });
    await storage.createRun(sampleRun(workflowId, runId), sampleStep(workflowId, runId, 0));

    const args = [dir, workflowId, runId, String(TARGET), String(APPENDERS_PER_PROCESS)];
    const children = ["a", "b"].map((tag) => new Fixture("race-appenders.mjs", [...args, tag]));
    await Promise.all(children.map((child) => child.waitForLines(1)));
    for (const child of children) child.send("go");
    const outputs = await Promise.all(children.map((child) => child.finished(45_000)));
    const appended = outputs.map((lines) => JSON.parse(lines.at(-1) as string).appended as number);
    expect(appended.reduce((a, b) => a + b, 0)).toBe(TARGET);
    // Both processes took part in the race.
    for (const count of appended) expect(count).toBeGreaterThan(0);

    const steps = await allSteps(storage, workflowId, runId);
    expect(steps.map((s) => s.step)).toEqual(Array.from({ length: TARGET + 1 }, (_, i) => i));
    for (const record of steps.slice(1)) {
      expect(record.parent).toBe(record.step - 1);
      expect(record.shared).toEqual({
        step: record.step,
        writer: expect.stringMatching(/^[ab]\/\d$/),
      });
    }
    expect(await storage.getRun(workflowId, runId)).toMatchObject({ headStep: TARGET });
    // On disk: one file per step and nothing else in steps/.
    const files = await readdir(RunPaths.of(dir, workflowId, runId).stepsDir);
    expect(files.sort()).toEqual(steps.map((s) => `${String(s.step).padStart(12, "0")}.json`));
  });
});
