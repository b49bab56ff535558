// Finding the head when head.json is not what the last append left: a crash
// or a racing writer leaves it behind the step files, a crash before the
// first append or a lost rename leaves none, a power loss with `fsync: false`
// can leave it naming a step whose own link was lost, and a hand can leave
// anything. Readers must report the head the step files hold and write
// nothing; the next append must make head.json the head again.
import { link, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { StepRecord } from "@wf/core";
import { describe, expect, it } from "vitest";
import { FileSystemStorage } from "../src/index.js";
import type { RunPaths } from "../src/layout.js";
import { allSteps, rejection, sampleRun, sampleStep, seed, useTempDir, walk } from "./helpers.js";

/** Every file under `dir` with its content, to show that reads wrote nothing. */
async function contents(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const path of await walk(dir)) {
    const full = join(dir, path);
    if ((await stat(full)).isFile()) files[path] = await readFile(full, "utf8");
  }
  return files;
}

/** Checks that head.json is step `step`'s file itself (a hard link), as an append leaves it. */
async function expectHeadFileIs(paths: RunPaths, step: number): Promise<void> {
  const [head, stepFile] = await Promise.all([stat(paths.headFile), stat(paths.stepFile(step))]);
  expect(head.ino).toBe(stepFile.ino);
}

/** What a store reports for the run, through every read that needs the head. */
async function reads(storage: FileSystemStorage, workflowId: string, runId: string) {
  return {
    run: await storage.getRun(workflowId, runId),
    latest: await storage.getLatestStep(workflowId, runId),
    steps: (await allSteps(storage, workflowId, runId)).map((record) => record.step),
    listed: (await storage.listRuns(workflowId)).items.find((run) => run.runId === runId),
  };
}

/** What reads must report for a run whose head is `head`, a record with `status`, created at step 0. */
function expectedReads(head: StepRecord, first = 0) {
  const run = {
    ...sampleRun(head.workflowId, head.runId),
    headStep: head.step,
    status: head.status,
    updatedAt: head.createdAt,
  };
  return {
    run,
    latest: head,
    steps: Array.from({ length: head.step - first + 1 }, (_, i) => first + i),
    listed: run,
  };
}

describe("head.json", () => {
  const tempDir = useTempDir("head");

  it("is the head step's file itself after each append, and run.json stays as created", async () => {
    const dir = tempDir();
    const { storage, paths } = await seed(dir, "wf", "run", 0);
    const created = await readFile(paths.runFile, "utf8");
    expect(JSON.parse(created)).toEqual(sampleRun("wf", "run"));
    // A new run has no hint: its head is its first step.
    expect((await readdir(paths.dir)).sort()).toEqual(["run.json", "steps"]);
    for (let step = 1; step <= 3; step++) {
      await storage.appendStep(sampleStep("wf", "run", step));
      await expectHeadFileIs(paths, step);
    }
    expect(JSON.parse(await readFile(paths.headFile, "utf8"))).toEqual(sampleStep("wf", "run", 3));
    expect(await readFile(paths.runFile, "utf8")).toBe(created);
    expect((await readdir(paths.dir)).sort()).toEqual(["head.json", "run.json", "steps"]);
  });

  it("left behind by a crash between publishing a step and renaming it: readers take the head from the step files, write nothing, and the next append moves it", async () => {
    const dir = tempDir();
    const { storage, paths } = await seed(dir, "wf", "run", 2);
    // Steps 3 and 4 published, head.json still step 2: what a kill between
    // link and rename leaves, and for a moment what a racing writer leaves.
    const step3 = sampleStep("wf", "run", 3);
    const step4 = sampleStep("wf", "run", 4, { status: "waiting_for_input" });
    await writeFile(paths.stepFile(3), JSON.stringify(step3));
    await writeFile(paths.stepFile(4), JSON.stringify(step4));
    const before = await contents(dir);

    expect(await reads(storage, "wf", "run")).toEqual(expectedReads(step4));
    expect(await contents(dir)).toEqual(before);

    const conflict = await rejection(storage.appendStep(sampleStep("wf", "run", 3)));
    expect(conflict.code).toBe("STEP_CONFLICT");
    expect(await storage.getStep("wf", "run", 3)).toEqual(step3);

    const step5 = sampleStep("wf", "run", 5, { status: "completed" });
    await storage.appendStep(step5);
    await expectHeadFileIs(paths, 5);
    expect(await reads(storage, "wf", "run")).toEqual(expectedReads(step5));
    expect(await readFile(paths.runFile, "utf8")).toBe(before["w-wf/r-run/run.json"]);
  });

  it("far behind the head is followed up to it, in a new store too", async () => {
    const dir = tempDir();
    const { paths } = await seed(dir, "wf", "run", 40);
    await rm(paths.headFile);
    await link(paths.stepFile(1), paths.headFile);
    const before = await contents(dir);
    const storage = new FileSystemStorage({ dir });
    expect(await reads(storage, "wf", "run")).toEqual(expectedReads(sampleStep("wf", "run", 40)));
    expect(await contents(dir)).toEqual(before);
  });

  it("missing: readers search the step files, write nothing, and the next append restores it", async () => {
    const dir = tempDir();
    const { storage, paths } = await seed(dir, "wf", "run", 100);
    await rm(paths.headFile);
    const before = await contents(dir);
    expect(await reads(storage, "wf", "run")).toEqual(expectedReads(sampleStep("wf", "run", 100)));
    expect(await contents(dir)).toEqual(before);

    const next = sampleStep("wf", "run", 101, { status: "failed" });
    await storage.appendStep(next);
    await expectHeadFileIs(paths, 101);
    expect(await reads(storage, "wf", "run")).toEqual(expectedReads(next));
  });

  it("missing from a fork: the search starts at the fork's first step", async () => {
    const dir = tempDir();
    const storage = new FileSystemStorage({ dir });
    const run = sampleRun("wf", "fork", {
      headStep: 37,
      forkedFrom: { runId: "source", step: 37 },
    });
    await storage.createRun(run, sampleStep("wf", "fork", 37));
    for (let step = 38; step <= 60; step++) {
      await storage.appendStep(sampleStep("wf", "fork", step));
    }
    await rm(join(dir, "w-wf", "r-fork", "head.json"));
    const head = sampleStep("wf", "fork", 60);
    expect(await reads(storage, "wf", "fork")).toEqual({
      ...expectedReads(head, 37),
      run: { ...run, headStep: 60, updatedAt: head.createdAt },
      listed: { ...run, headStep: 60, updatedAt: head.createdAt },
    });
  });

  it.each([
    ["empty", ""],
    ["garbage", "\u0000\u0000garbage{"],
    ["truncated", JSON.stringify(sampleStep("wf", "run", 6)).slice(0, 40)],
    ["not a record", "[6]"],
    ["null", "null"],
    ["a record without a step number", JSON.stringify({ step: "6" })],
  ])("%s: read as missing, and the next append replaces it", async (_, text) => {
    const dir = tempDir();
    const { storage, paths } = await seed(dir, "wf", "run", 5);
    await rm(paths.headFile);
    await writeFile(paths.headFile, text);
    expect(await reads(storage, "wf", "run")).toEqual(expectedReads(sampleStep("wf", "run", 5)));
    expect(await readFile(paths.headFile, "utf8")).toBe(text);

    await storage.appendStep(sampleStep("wf", "run", 6));
    await expectHeadFileIs(paths, 6);
    expect((await storage.getRun("wf", "run")).headStep).toBe(6);
  });

  it("a directory in its place is ignored, and appends still succeed", async () => {
    const { storage, paths } = await seed(tempDir(), "wf", "run", 2);
    await rm(paths.headFile);
    await mkdir(paths.headFile);
    await storage.appendStep(sampleStep("wf", "run", 3));
    expect(await reads(storage, "wf", "run")).toEqual(expectedReads(sampleStep("wf", "run", 3)));
    // The record's temporary name was removed when it could not become head.json.
    expect((await readdir(paths.dir)).sort()).toEqual(["head.json", "run.json", "steps"]);
  });

  it("past the head (its step's link lost in a power loss with fsync: false) is not trusted, and the step is appended again", async () => {
    const dir = tempDir();
    const { storage, paths } = await seed(dir, "wf", "run", 4);
    // head.json names step 4, whose entry in steps/ did not survive.
    await rm(paths.stepFile(4));
    const step3 = sampleStep("wf", "run", 3);
    expect(await reads(storage, "wf", "run")).toEqual(expectedReads(step3));

    const again = sampleStep("wf", "run", 4, { shared: { again: true } });
    await storage.appendStep(again);
    await expectHeadFileIs(paths, 4);
    expect(await reads(storage, "wf", "run")).toEqual(expectedReads(again));
  });

  it("naming the head's step number but another record is not taken for it", async () => {
    // What is left for a moment when a step is appended again after a power
    // loss lost it: the new step 4 linked, head.json still the lost step 4.
    const dir = tempDir();
    const { storage, paths } = await seed(dir, "wf", "run", 4);
    const lost = sampleStep("wf", "run", 4, { status: "completed", shared: { lost: true } });
    await rm(paths.headFile);
    await writeFile(paths.headFile, JSON.stringify(lost));
    expect(await reads(storage, "wf", "run")).toEqual(expectedReads(sampleStep("wf", "run", 4)));
  });

  it("absent from a run written before it existed (run.json rewritten after each append) is no obstacle", async () => {
    const dir = tempDir();
    const { storage, paths } = await seed(dir, "wf", "run", 5);
    await rm(paths.headFile);
    const step3 = sampleStep("wf", "run", 3);
    const written = { ...sampleRun("wf", "run"), headStep: 3, updatedAt: step3.createdAt };
    await writeFile(paths.runFile, JSON.stringify(written));
    expect(await reads(storage, "wf", "run")).toEqual(expectedReads(sampleStep("wf", "run", 5)));
    // Its run.json naming the head is taken as it is.
    await rm(paths.stepFile(5));
    await rm(paths.stepFile(4));
    expect((await storage.getRun("wf", "run")).headStep).toBe(3);

    await storage.appendStep(sampleStep("wf", "run", 4));
    await expectHeadFileIs(paths, 4);
    expect(await reads(storage, "wf", "run")).toEqual(expectedReads(sampleStep("wf", "run", 4)));
  });

  it("absent, with an old run.json ahead of its step files (a power loss with fsync: false): the last step on disk is the head", async () => {
    const dir = tempDir();
    const { storage, paths } = await seed(dir, "wf", "run", 3);
    await rm(paths.headFile);
    const step3 = sampleStep("wf", "run", 3);
    await writeFile(
      paths.runFile,
      JSON.stringify({ ...sampleRun("wf", "run"), headStep: 3, updatedAt: step3.createdAt }),
    );
    await rm(paths.stepFile(3));
    expect(await storage.getRun("wf", "run")).toMatchObject({
      headStep: 2,
      updatedAt: sampleStep("wf", "run", 2).createdAt,
    });
    expect((await storage.getLatestStep("wf", "run")).step).toBe(2);
    await storage.appendStep(sampleStep("wf", "run", 3, { shared: { again: true } }));
    expect((await storage.getStep("wf", "run", 3)).shared).toEqual({ again: true });
    expect((await allSteps(storage, "wf", "run")).map((s) => s.step)).toEqual([0, 1, 2, 3]);
  });
});
