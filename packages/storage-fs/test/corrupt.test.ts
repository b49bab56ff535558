// What the adapter does with a journal directory that is not pristine: torn
// or garbage files, temporary files left by crashes, hostile ids that try to
// leave the directory, and an unusable directory. (For a head.json left
// behind by a crash, see head.test.ts.)
import { mkdir, readdir, readFile, truncate, utimes, writeFile } from "node:fs/promises";
import { join, sep } from "node:path";
import { describe, expect, it } from "vitest";
import { FileSystemStorage } from "../src/index.js";
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
      () => storage.listRuns("wf"),
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

/** Ids that try to escape the directory, fold together, or upset a file system. */
const HOSTILE_IDS = [
  "../x",
  "..",
  ".",
  "a/b",
  "a\\b",
  "/abs",
  "C:\\x",
  "a:b",
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
  "a%2eb",
  "a%2Eb",
  "trailing.",
  "trailing ",
  'a*?<>|"b',
  "ünïcödé-日本-🙂",
  "\uD800",
  "\uFFFD",
  "x".repeat(300),
  "X".repeat(300),
  `${"x".repeat(299)}y`,
  "",
];
const RESERVED_WINDOWS_NAME = /^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$/i;

describe("hostile ids", () => {
  const tempDir = useTempDir("ids");

  it("stay inside dir, in portable names, and each stays its own workflow and run", async () => {
    const sandbox = tempDir();
    const dir = join(sandbox, "logs");
    const storage = new FileSystemStorage({ dir });
    for (const id of HOSTILE_IDS) {
      await storage.createRun(sampleRun(id, "run"), sampleStep(id, "run", 0, { shared: { id } }));
      await storage.createRun(
        sampleRun("hostile", id),
        sampleStep("hostile", id, 0, { shared: { id } }),
      );
      await storage.appendStep(sampleStep("hostile", id, 1, { shared: { id } }));
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
    expect(workflows.items).toEqual([...new Set([...HOSTILE_IDS, "hostile"])].sort());
    const runs = await storage.listRuns("hostile", { limit: 1000 });
    expect(runs.items.map((r) => r.runId).sort()).toEqual([...HOSTILE_IDS].sort());
    for (const id of HOSTILE_IDS) {
      expect((await storage.getStep(id, "run", 0)).shared).toEqual({ id });
      expect((await storage.getLatestStep("hostile", id)).shared).toEqual({ id });
      expect((await storage.getRun("hostile", id)).runId).toBe(id);
    }
  });
});

describe("an unusable journal directory", () => {
  const tempDir = useTempDir("unusable");

  it("a dir below a regular file fails writes with STORAGE_UNAVAILABLE naming it", async () => {
    const file = join(tempDir(), "file");
    await writeFile(file, "not a directory");
    const storage = new FileSystemStorage({ dir: join(file, "logs") });
    const error = await rejection(
      storage.createRun(sampleRun("wf", "run"), sampleStep("wf", "run", 0)),
    );
    expect(error.code).toBe("STORAGE_UNAVAILABLE");
    expect(error.message).toContain(join(file, "logs"));
    // Reads find nothing there rather than failing.
    expect((await rejection(storage.getRun("wf", "run"))).code).toBe("RUN_NOT_FOUND");
  });

  it("a layout written by a newer version is refused with STORAGE_UNAVAILABLE", async () => {
    const dir = tempDir();
    await writeFile(join(dir, ".wf-layout.json"), JSON.stringify({ version: 99 }));
    const storage = new FileSystemStorage({ dir });
    const error = await rejection(storage.listWorkflows());
    expect(error.code).toBe("STORAGE_UNAVAILABLE");
    expect(error.message).toContain("layout version 99");
  });

  it("stores opening one new directory at once agree on a single layout marker", async () => {
    const dir = join(tempDir(), "logs");
    const stores = Array.from({ length: 12 }, () => new FileSystemStorage({ dir }));
    await Promise.all(
      stores.map((store, i) =>
        store.createRun(sampleRun("wf", `run-${i}`), sampleStep("wf", `run-${i}`, 0)),
      ),
    );
    expect(JSON.parse(await readFile(join(dir, ".wf-layout.json"), "utf8"))).toEqual({
      version: 1,
    });
    expect((await readdir(dir)).sort()).toEqual([".wf-layout.json", "w-wf"]);
    expect((await stores[0]?.listRuns("wf"))?.items).toHaveLength(12);
  });
});
