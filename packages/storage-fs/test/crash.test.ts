// Crash safety: child processes appending to the journal are SIGKILLed at
// random moments; every step they acknowledged must be readable and intact,
// the run must open at a head no lower than the last acknowledgement, and
// appending (or an engine resuming) must continue from there.
import { describe, expect, it } from "vitest";
import { FileSystemStorage } from "../src/index.js";
import { allSteps, Fixture, sampleRun, sampleStep, sleep, useTempDir } from "./helpers.js";

/**
 * Bounds on each crash loop: at most this many rounds, and no new round after
 * this long. Starting a child process dominates a round.
 */
const APPENDER_ROUNDS = 25;
const ENGINE_ROUNDS = 10;
const TIME_BUDGET_MS = 12_000;

describe("crash safety", () => {
  const tempDir = useTempDir("crash");

  it("no acknowledged step is lost or torn when an appender is killed at random moments", async () => {
    const dir = tempDir();
    const workflowId = "crash-appends";
    const runId = "20260101_000000_000_000000000001";
    const setup = new FileSystemStorage({ dir });
    await setup.createRun(sampleRun(workflowId, runId), sampleStep(workflowId, runId, 0));
    await setup.close();

    const acknowledged: number[] = [];
    const started = Date.now();
    for (let round = 0; round < APPENDER_ROUNDS && Date.now() - started < TIME_BUDGET_MS; round++) {
      const child = new Fixture("append-loop.mjs", [dir, workflowId, runId, "100000"]);
      // Killed only once it is appending, after a random share of a few appends.
      await child.waitForLines(1);
      await sleep(Math.random() * 25);
      await child.crash();
      const steps = child.lines.map(Number);
      // Each round continues exactly where the acknowledged ones left off, or past them.
      expect(steps[0]).toBeGreaterThan(acknowledged.at(-1) ?? 0);
      acknowledged.push(...steps);
    }

    const storage = new FileSystemStorage({ dir });
    const run = await storage.getRun(workflowId, runId);
    const last = acknowledged.at(-1) as number;
    expect(run.headStep).toBeGreaterThanOrEqual(last);
    for (const step of acknowledged) {
      const record = await storage.getStep(workflowId, runId, step);
      expect(record.step).toBe(step);
      expect((record.shared as { step: number; padding: string }).step).toBe(step);
      expect((record.shared as { padding: string }).padding).toBe("é🙂x".repeat(4096));
    }
    // Everything listed is a whole record of this run, numbered without gaps:
    // no temporary file surfaces through any listing.
    const steps = await allSteps(storage, workflowId, runId);
    expect(steps.map((s) => s.step)).toEqual(Array.from({ length: run.headStep + 1 }, (_, i) => i));
    expect((await storage.getLatestStep(workflowId, runId)).step).toBe(run.headStep);
    expect((await storage.listRuns(workflowId)).items.map((r) => r.runId)).toEqual([runId]);
    expect((await storage.listWorkflows()).items).toEqual([workflowId]);

    const next = sampleStep(workflowId, runId, run.headStep + 1, { status: "completed" });
    await storage.appendStep(next);
    expect(await storage.getLatestStep(workflowId, runId)).toEqual(next);
    expect(await storage.getRun(workflowId, runId)).toMatchObject({
      headStep: next.step,
      status: "completed",
      updatedAt: next.createdAt,
    });
  });

  it("an engine killed at random moments resumes with WorkflowEngine.create({ runId }) and completes, losing no step", async () => {
    const dir = tempDir();
    const workflowId = "crash-engine";
    const nodeCount = 300;
    const acknowledged: number[] = [];
    let runId: string | undefined;
    let finished = false;
    const started = Date.now();
    for (let round = 0; round < ENGINE_ROUNDS && Date.now() - started < TIME_BUDGET_MS; round++) {
      const args = [dir, workflowId, String(nodeCount), "step", ...(runId ? [runId] : [])];
      const child = new Fixture("linear-engine.mjs", args);
      await child.waitForLines(1);
      runId ??= child.lines[0]?.replace("run ", "");
      await sleep(Math.random() * 40);
      await child.crash();
      for (const line of child.lines) {
        if (line.startsWith("step ")) acknowledged.push(Number(line.slice(5)));
        if (line.startsWith("done ")) finished = true;
      }
      if (finished) break;
    }
    expect(runId).toBeDefined();
    expect(acknowledged.length).toBeGreaterThan(0);

    // Resumed to the end by engine.run() in a process nobody kills.
    const last = new Fixture("linear-engine.mjs", [
      dir,
      workflowId,
      String(nodeCount),
      "run",
      runId as string,
    ]);
    expect((await last.finished()).at(-1)).toBe("done completed");

    const storage = new FileSystemStorage({ dir });
    const names = Array.from({ length: nodeCount }, (_, i) => `n${i}`);
    const steps = await allSteps(storage, workflowId, runId as string);
    // One step per node, each continuing the one before: no step lost, none run twice.
    expect(steps.map((s) => s.step)).toEqual(Array.from({ length: nodeCount + 1 }, (_, i) => i));
    for (const record of steps) {
      expect(record.parent).toBe(record.step === 0 ? null : record.step - 1);
      expect((record.shared as { visited?: string[] }).visited ?? []).toEqual(
        names.slice(0, record.step),
      );
    }
    for (const step of acknowledged) expect(steps[step]?.step).toBe(step);
    expect(await storage.getRun(workflowId, runId as string)).toMatchObject({
      headStep: nodeCount,
      status: "completed",
    });
  });
});
