// What the adapter does with a journal directory that is not pristine: torn
// or garbage files, records that parse but are not what they should be,
// temporary files left by crashes, and ids that try to leave the directory.
// (For a head.json left behind by a crash, see head.test.ts; for listing and
// deleting damaged runs, damaged-runs.test.ts; for a disk that refuses,
// disk-errors.test.ts.)
import { mkdir, readdir, readFile, rm, truncate, utimes, writeFile } from "node:fs/promises";
import { join, sep } from "node:path";
import { CorruptRecordError, Node, WorkflowEngine } from "@wf/core";
import { describe, expect, it } from "vitest";
import { FileSystemStorage } from "../src/index.js";
import { RunPaths } from "../src/layout.js";
import { allSteps, rejection, sampleRun, sampleStep, seed, useTempDir, walk } from "./helpers.js";

const twoMinutesAgo = () => new Date(Date.now() - 120_000);

describe("corrupt records", () => {
  const tempDir = useTempDir("corrupt");

  it("a truncated step file fails with CORRUPT_RECORD naming the file", async () => {
    const { storage, paths } = await seed(tempDir(), "wf", "run", 2);
    const file = paths.stepFile(1);
    await truncate(file, 20);
    for (const call of [
      () => storage.getStep("wf", "run", 1),
      () => storage.listSteps("wf", "run"),
    ]) {
      const error = await rejection(call());
      expect(error.code).toBe("CORRUPT_RECORD");
      expect(error.message).toContain(file);
    }
    // The intact steps around it still read.
    expect((await storage.getStep("wf", "run", 2)).step).toBe(2);
  });

  it("an empty head step file fails with CORRUPT_RECORD naming the file", async () => {
    const { storage, paths } = await seed(tempDir(), "wf", "run", 1);
    await writeFile(paths.stepFile(1), "");
    const error = await rejection(storage.getLatestStep("wf", "run"));
    expect(error.code).toBe("CORRUPT_RECORD");
    expect(error.message).toContain(paths.stepFile(1));
  });

  it("a step file holding another step is CORRUPT_RECORD", async () => {
    const { storage, paths } = await seed(tempDir(), "wf", "run", 2);
    await writeFile(paths.stepFile(2), await readFile(paths.stepFile(1)));
    const error = await rejection(storage.getStep("wf", "run", 2));
    expect(error.code).toBe("CORRUPT_RECORD");
    expect(error.message).toContain(paths.stepFile(2));
  });

  it("a garbage run.json fails with CORRUPT_RECORD naming it, for reads and appends alike", async () => {
    const { storage, paths } = await seed(tempDir(), "wf", "run", 1);
    await writeFile(paths.runFile, "\u0000\u0000garbage{");
    for (const call of [
      () => storage.getRun("wf", "run"),
      () => storage.getLatestStep("wf", "run"),
      () => storage.listSteps("wf", "run"),
      () => storage.appendStep(sampleStep("wf", "run", 2)),
    ]) {
      const error = await rejection(call());
      expect(error.code).toBe("CORRUPT_RECORD");
      expect(error.message).toContain(paths.runFile);
    }
  });

  it("a run.json of valid JSON but not run metadata is CORRUPT_RECORD", async () => {
    const { storage, paths } = await seed(tempDir(), "wf", "run", 0);
    await writeFile(paths.runFile, JSON.stringify({ ...sampleRun("wf", "run"), headStep: "x" }));
    expect((await rejection(storage.getRun("wf", "run"))).code).toBe("CORRUPT_RECORD");
  });
});

/** Counts its visits in the shared state. */
class Visit extends Node<{ visits: number }> {
  override cleanup(shared: { visits: number }) {
    shared.visits += 1;
  }
}

/** A two-node workflow journalled in `dir`. */
function visits(dir: string) {
  return {
    workflowId: "wf",
    nodes: [new Visit({ id: "a" }), new Visit({ id: "b" })],
    edges: [{ from: "a", to: "b" }],
    initialState: { visits: 0 },
    storage: new FileSystemStorage({ dir }),
  };
}

/** Rewrites step `step`'s file in place, as a disk or a hand would: head.json, a second name of the head's file, changes with it. */
async function damageStep(
  paths: RunPaths,
  step: number,
  change: (record: Record<string, unknown>) => unknown,
) {
  const file = paths.stepFile(step);
  const record = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
  await writeFile(file, JSON.stringify(change(record)));
}

/** The error a read rejected with, checked to be CORRUPT_RECORD at `location`. */
async function expectCorruptAt(call: Promise<unknown>, location: string) {
  const error = await rejection(call);
  expect(error.code, error.message).toBe("CORRUPT_RECORD");
  expect(error).toBeInstanceOf(CorruptRecordError);
  expect((error as CorruptRecordError).location).toBe(location);
  expect(error.message).toContain(location);
}

describe("records are checked when read, not trusted after JSON.parse", () => {
  const tempDir = useTempDir("checked");

  it('a completed run whose head step holds shared: "oops" is not reopened: CORRUPT_RECORD naming the step file, nothing written', async () => {
    const dir = tempDir();
    const engine = await WorkflowEngine.create(visits(dir));
    expect(await engine.run()).toBe("completed");
    const paths = RunPaths.of(dir, "wf", engine.runId);
    const head = (await engine.storage.getLatestStep("wf", engine.runId)).step;
    await damageStep(paths, head, (record) => ({ ...record, shared: "oops" }));
    expect(JSON.parse(await readFile(paths.headFile, "utf8")).shared).toBe("oops");
    const before = await walk(dir);

    const reopened = WorkflowEngine.create({ ...visits(dir), runId: engine.runId });
    await expectCorruptAt(reopened, paths.stepFile(head));
    const storage = new FileSystemStorage({ dir });
    await expectCorruptAt(storage.getLatestStep("wf", engine.runId), paths.stepFile(head));
    await expectCorruptAt(storage.getStep("wf", engine.runId, head), paths.stepFile(head));
    expect(await walk(dir)).toEqual(before);
  });

  it('a head step holding only {"step":4} is CORRUPT_RECORD naming the step file on every read, not a TypeError', async () => {
    const dir = tempDir();
    const { storage, paths } = await seed(dir, "wf", "run", 4);
    await writeFile(paths.stepFile(4), '{"step":4}');
    await expectCorruptAt(storage.getLatestStep("wf", "run"), paths.stepFile(4));
    await expectCorruptAt(storage.getRun("wf", "run"), paths.stepFile(4));
    await expectCorruptAt(storage.getStep("wf", "run", 4), paths.stepFile(4));
    await expectCorruptAt(
      WorkflowEngine.create({ ...visits(dir), runId: "run" }),
      paths.stepFile(4),
    );
  });

  it("a head step whose nodeStatuses is null is CORRUPT_RECORD naming the step file, for the engine too", async () => {
    const dir = tempDir();
    const engine = await WorkflowEngine.create(visits(dir));
    await engine.step();
    const paths = RunPaths.of(dir, "wf", engine.runId);
    await damageStep(paths, 1, (record) => ({ ...record, nodeStatuses: null }));
    await expectCorruptAt(
      WorkflowEngine.create({ ...visits(dir), runId: engine.runId }),
      paths.stepFile(1),
    );
    await expectCorruptAt(
      new FileSystemStorage({ dir }).getLatestStep("wf", engine.runId),
      paths.stepFile(1),
    );
  });

  it("a head step with a status outside the enum makes getRun CORRUPT_RECORD naming the step file", async () => {
    const { storage, paths } = await seed(tempDir(), "wf", "run", 2);
    await damageStep(paths, 2, (record) => ({ ...record, status: "bogus" }));
    await expectCorruptAt(storage.getRun("wf", "run"), paths.stepFile(2));
    await expectCorruptAt(storage.getLatestStep("wf", "run"), paths.stepFile(2));
  });

  it("run.json holding {} is CORRUPT_RECORD naming it on every call, not INVALID_ID", async () => {
    const { storage, paths } = await seed(tempDir(), "wf", "run", 1);
    await writeFile(paths.runFile, "{}");
    await expectCorruptAt(storage.getRun("wf", "run"), paths.runFile);
    await expectCorruptAt(storage.getLatestStep("wf", "run"), paths.runFile);
    await expectCorruptAt(storage.listSteps("wf", "run"), paths.runFile);
    await expectCorruptAt(storage.appendStep(sampleStep("wf", "run", 2)), paths.runFile);
    const page = await storage.listRuns("wf");
    expect(page.items).toEqual([]);
    expect(page.damaged).toEqual([
      { runId: "run", location: paths.runFile, reason: expect.any(String) },
    ]);
    expect(await readdir(paths.stepsDir)).toHaveLength(2);
  });

  it("run.json with a status outside the enum is CORRUPT_RECORD naming it", async () => {
    const { storage, paths } = await seed(tempDir(), "wf", "run", 0);
    await writeFile(paths.runFile, JSON.stringify({ ...sampleRun("wf", "run"), status: "bogus" }));
    await expectCorruptAt(storage.getRun("wf", "run"), paths.runFile);
  });

  it("a step file missing between the run's first step and its head is CORRUPT_RECORD naming it; past the head is STEP_NOT_FOUND", async () => {
    const { storage, paths } = await seed(tempDir(), "wf", "run", 3);
    await rm(paths.stepFile(1));
    await expectCorruptAt(storage.getStep("wf", "run", 1), paths.stepFile(1));
    await expectCorruptAt(allSteps(storage, "wf", "run"), paths.stepFile(1));
    expect((await rejection(storage.getStep("wf", "run", 4))).code).toBe("STEP_NOT_FOUND");
  });

  it("a fork whose first step file is missing is CORRUPT_RECORD on listSteps, not a shorter list", async () => {
    const dir = tempDir();
    const storage = new FileSystemStorage({ dir });
    const run = sampleRun("wf", "fork", { headStep: 5, forkedFrom: { runId: "source", step: 5 } });
    await storage.createRun(run, sampleStep("wf", "fork", 5));
    for (let step = 6; step <= 8; step++) await storage.appendStep(sampleStep("wf", "fork", step));
    const paths = RunPaths.of(dir, "wf", "fork");
    await rm(paths.stepFile(5));
    await expectCorruptAt(allSteps(storage, "wf", "fork"), paths.stepFile(5));
    await expectCorruptAt(storage.getStep("wf", "fork", 5), paths.stepFile(5));
    expect((await rejection(storage.getStep("wf", "fork", 4))).code).toBe("STEP_NOT_FOUND");
  });
});

describe("temporary files left by a crash", () => {
  const tempDir = useTempDir("temps");

  it("are ignored by every read and swept by the next store to write in their directory", async () => {
    const dir = tempDir();
    const { storage, paths } = await seed(dir, "wf", "run", 1);
    // A half-written step, a half-built run, a half-created workflow, and a
    // write still in progress (fresh, so it must survive the sweep).
    const staleStep = join(paths.dir, ".tmp-1-dead");
    const staleRun = join(paths.workflowDir, ".tmp-2-dead");
    const staleWorkflow = join(dir, ".tmp-3-dead");
    const fresh = join(paths.dir, ".tmp-4-live");
    await writeFile(staleStep, '{"step":2,"tor');
    await mkdir(join(staleRun, "steps"), { recursive: true });
    await writeFile(join(staleRun, "run.json"), JSON.stringify(sampleRun("wf", "ghost")));
    await mkdir(staleWorkflow);
    await writeFile(join(staleWorkflow, "workflow.json"), '{"workflowId":"ghost"}');
    await writeFile(fresh, "in progress");
    for (const path of [staleStep, staleRun, staleWorkflow]) {
      await utimes(path, twoMinutesAgo(), twoMinutesAgo());
    }

    expect((await storage.listWorkflows()).items).toEqual(["wf"]);
    expect((await storage.listRuns("wf")).items.map((r) => r.runId)).toEqual(["run"]);
    expect((await allSteps(storage, "wf", "run")).map((s) => s.step)).toEqual([0, 1]);
    expect((await storage.getRun("wf", "run")).headStep).toBe(1);

    // Written by a restarted process, as after the crash that left them: a
    // store sweeps a directory the first time it writes there, then at most
    // once a minute, so the store that seeded the run would not look again yet.
    const restarted = new FileSystemStorage({ dir });
    await restarted.appendStep(sampleStep("wf", "run", 2));
    expect((await readdir(paths.dir)).sort()).toEqual([
      ".tmp-4-live",
      "head.json",
      "run.json",
      "steps",
    ]);
    await restarted.createRun(sampleRun("wf", "other"), sampleStep("wf", "other", 0));
    expect(await readdir(paths.workflowDir)).not.toContain(".tmp-2-dead");
    await restarted.createRun(sampleRun("wf2", "run"), sampleStep("wf2", "run", 0));
    expect(await readdir(dir)).not.toContain(".tmp-3-dead");
  });
});

/**
 * Ids the id rule accepts that an encoding could still get wrong: Windows
 * device names, names differing only in case, dots, and ids whose escaped
 * form is long enough to be hashed.
 */
const ENCODED_IDS = [
  "CON",
  "con",
  "nul.txt",
  "COM1",
  "lpt9.log",
  "Run",
  "run",
  "RUN",
  "a.b",
  "a_b",
  "a-b",
  ".hidden",
  "trailing.",
  "x".repeat(128),
  "X".repeat(128),
  `${"X".repeat(127)}Y`,
  ".".repeat(128),
];
/** Ids the rule refuses, among them every one that would reach a path outside its run. */
const REFUSED_IDS = [
  "../x",
  "..",
  ".",
  "a/b",
  "a\\b",
  "/abs",
  "C:\\x",
  "",
  "a b",
  "ünï",
  "\uD800",
  "x".repeat(129),
];
const RESERVED_WINDOWS_NAME = /^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$/i;

describe("ids on disk", () => {
  const tempDir = useTempDir("ids");

  it("ids the rule accepts stay inside dir, in portable names, each its own workflow and run", async () => {
    const sandbox = tempDir();
    const dir = join(sandbox, "logs");
    const storage = new FileSystemStorage({ dir });
    for (const id of ENCODED_IDS) {
      await storage.createRun(sampleRun(id, "run"), sampleStep(id, "run", 0, { shared: { id } }));
      await storage.createRun(
        sampleRun("encoded", id),
        sampleStep("encoded", id, 0, { shared: { id } }),
      );
      await storage.appendStep(sampleStep("encoded", id, 1, { shared: { id } }));
    }

    // Nothing was created beside the journal directory.
    expect(await readdir(sandbox)).toEqual(["logs"]);
    const paths = await walk(dir);
    const namesByDir = new Map<string, string[]>();
    for (const path of paths) {
      const parts = path.split(sep);
      const name = parts.at(-1) as string;
      expect(name, path).toMatch(/^[a-z0-9._%-]+$/);
      expect(Buffer.byteLength(name), path).toBeLessThanOrEqual(255);
      expect(name, path).not.toMatch(RESERVED_WINDOWS_NAME);
      expect(name.endsWith("."), path).toBe(false);
      if (/^[wr]-/.test(name)) expect(name, path).not.toContain(".");
      const parent = parts.slice(0, -1).join(sep);
      namesByDir.set(parent, [...(namesByDir.get(parent) ?? []), name.toLowerCase()]);
    }
    // No two names in one directory that a case-insensitive file system would fold together.
    for (const [parent, names] of namesByDir)
      expect(new Set(names).size, parent).toBe(names.length);

    const workflows = await storage.listWorkflows({ limit: 1000 });
    expect(workflows.items).toEqual([...new Set([...ENCODED_IDS, "encoded"])].sort());
    const runs = await storage.listRuns("encoded", { limit: 1000 });
    expect(runs.items.map((r) => r.runId).sort()).toEqual([...ENCODED_IDS].sort());
    for (const id of ENCODED_IDS) {
      expect((await storage.getStep(id, "run", 0)).shared).toEqual({ id });
      expect((await storage.getLatestStep("encoded", id)).shared).toEqual({ id });
      expect((await storage.getRun("encoded", id)).runId).toBe(id);
    }
  });

  it("ids the rule refuses are INVALID_ID on every method and create nothing, not even the journal directory", async () => {
    const sandbox = tempDir();
    const storage = new FileSystemStorage({ dir: join(sandbox, "logs") });
    for (const id of REFUSED_IDS) {
      for (const call of [
        () => storage.createRun(sampleRun(id, "run"), sampleStep(id, "run", 0)),
        () => storage.createRun(sampleRun("wf", id), sampleStep("wf", id, 0)),
        () => storage.appendStep(sampleStep("wf", id, 1)),
        () => storage.appendStep(sampleStep(id, "run", 1)),
        () => storage.getRun("wf", id),
        () => storage.getStep(id, "run", 0),
        () => storage.getLatestStep("wf", id),
        () => storage.listSteps(id, "run"),
        () => storage.listRuns(id),
        () => storage.deleteRun("wf", id),
      ]) {
        expect((await rejection(call())).code, JSON.stringify(id)).toBe("INVALID_ID");
      }
    }
    expect(await readdir(sandbox)).toEqual([]);
  });
});
