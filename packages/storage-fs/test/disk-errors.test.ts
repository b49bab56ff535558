// A disk that refuses: one that is full (the operator frees space and the
// same call succeeds: STORAGE_UNAVAILABLE) and a journal directory that can
// never be written as configured (no permission, read-only, a file in the
// way, a newer layout: STORAGE_MISCONFIGURED). Each error names the path and
// says what to do, and nothing half-written is left behind.
//
// The disks are real: a tiny tmpfs to fill, a read-only tmpfs, an immutable
// directory, a process of another user. Mounting and `chattr` need root (as
// the tests run in CI); elsewhere those tests are skipped, saying so.
import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, open, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { FileSystemStorage } from "../src/index.js";
import { rejection, sampleRun, sampleStep, seed, useTempDir } from "./helpers.js";

const isRoot = process.getuid?.() === 0;
const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

/** Mount points made by the running test. */
const mounts: string[] = [];

/**
 * Unmounts the test's file systems after it. Call after useTempDir: hooks
 * run in reverse, so they are unmounted before the directory is removed.
 */
function useMounts(): void {
  afterEach(() => {
    for (const dir of mounts.splice(0)) execFileSync("umount", [dir]);
  });
}

/** A fresh tmpfs at `dir` with mount `options` (e.g. "size=64k"). */
async function mountTmpfs(dir: string, options: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  execFileSync("mount", ["-t", "tmpfs", "-o", options, "tmpfs", dir]);
  mounts.push(dir);
  return dir;
}

/** Fills the file system holding `dir` with one file, until it is full; returns that file. */
async function fill(dir: string): Promise<string> {
  const file = join(dir, "filler");
  const handle = await open(file, "w");
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (;;) await handle.write(chunk);
  } catch (error) {
    if ((error as { code?: string }).code !== "ENOSPC") throw error;
  } finally {
    await handle.close();
  }
  return file;
}

describe.skipIf(!isRoot)("a full disk (a 64 KiB tmpfs; needs root to mount)", () => {
  const tempDir = useTempDir("full");
  useMounts();

  it("fails an append with STORAGE_UNAVAILABLE naming the file being written and saying to free space; nothing is stored, and the append succeeds once space is freed", async () => {
    const disk = await mountTmpfs(join(tempDir(), "disk"), "size=64k");
    const { storage, paths } = await seed(disk, "wf", "run", 1);
    const filler = await fill(disk);

    const error = await rejection(storage.appendStep(sampleStep("wf", "run", 2)));
    expect(error.code).toBe("STORAGE_UNAVAILABLE");
    expect(error.message).toContain("ENOSPC");
    expect(error.message).toContain(`${paths.dir}/.tmp-`);
    expect(error.message).toMatch(/free space/);
    expect((error.cause as { code?: string }).code).toBe("ENOSPC");
    // Nothing of the failed append is on disk, not even its temporary file.
    expect((await readdir(paths.dir)).sort()).toEqual(["head.json", "run.json", "steps"]);
    expect(await readdir(paths.stepsDir)).toEqual(["000000000000.json", "000000000001.json"]);
    expect((await storage.getLatestStep("wf", "run")).step).toBe(1);

    await rm(filler);
    await storage.appendStep(sampleStep("wf", "run", 2));
    expect((await storage.getLatestStep("wf", "run")).step).toBe(2);
  });

  it("fails createRun with STORAGE_UNAVAILABLE naming the path being written, and no run appears", async () => {
    const disk = await mountTmpfs(join(tempDir(), "disk"), "size=64k");
    const { storage, paths } = await seed(disk, "wf", "first", 0);
    await fill(disk);
    const error = await rejection(
      storage.createRun(sampleRun("wf", "second"), sampleStep("wf", "second", 0)),
    );
    expect(error.code).toBe("STORAGE_UNAVAILABLE");
    expect(error.message).toContain(`${paths.workflowDir}/.tmp-`);
    expect(error.message).toMatch(/free space/);
    expect((await readdir(paths.workflowDir)).sort()).toEqual(["r-first", "workflow.json"]);
    expect((await storage.listRuns("wf")).items.map((r) => r.runId)).toEqual(["first"]);
  });
});

/** Checks `error` is STORAGE_MISCONFIGURED naming `path`, with the OS error `cause` kept. */
function expectMisconfigured(
  error: { code?: string; message: string; cause?: unknown },
  path: string,
  cause: string,
) {
  expect(error.code, error.message).toBe("STORAGE_MISCONFIGURED");
  expect(error.message).toContain(path);
  expect(error.message).toContain(cause);
  expect(error.message).toMatch(/`dir`/);
  expect((error.cause as { code?: string } | undefined)?.code ?? error.cause).toBe(cause);
}

describe("a journal directory that cannot be written as configured", () => {
  const tempDir = useTempDir("refused");
  useMounts();

  it.skipIf(!isRoot)(
    "on a read-only file system (EROFS) is STORAGE_MISCONFIGURED naming the path, and reads still work",
    async () => {
      const source = join(tempDir(), "source");
      await seed(source, "wf", "run", 1);
      const disk = await mountTmpfs(join(tempDir(), "disk"), "size=1m");
      execFileSync("cp", ["-a", `${source}/.`, disk]);
      execFileSync("mount", ["-o", "remount,ro", disk]);
      const storage = new FileSystemStorage({ dir: disk });
      for (const call of [
        () => storage.appendStep(sampleStep("wf", "run", 2)),
        () => storage.createRun(sampleRun("wf", "new"), sampleStep("wf", "new", 0)),
        () => storage.deleteRun("wf", "run"),
      ]) {
        expectMisconfigured(await rejection(call()), disk, "EROFS");
      }
      expect((await storage.getLatestStep("wf", "run")).step).toBe(1);
    },
  );

  it.skipIf(!isRoot)(
    "that is immutable (EPERM) is STORAGE_MISCONFIGURED naming the path",
    async (context) => {
      const dir = join(tempDir(), "logs");
      await mkdir(dir);
      try {
        execFileSync("chattr", ["+i", dir], { stdio: "ignore" });
      } catch {
        context.skip("this file system does not support chattr +i");
      }
      try {
        const storage = new FileSystemStorage({ dir });
        const error = await rejection(
          storage.createRun(sampleRun("wf", "run"), sampleStep("wf", "run", 0)),
        );
        expectMisconfigured(error, dir, "EPERM");
        expect(await readdir(dir)).toEqual([]);
      } finally {
        execFileSync("chattr", ["-i", dir]);
      }
    },
  );

  it("that this user may not write (EACCES) is STORAGE_MISCONFIGURED naming the path", async () => {
    const built = join(here, "..", "dist", "index.js");
    if (!existsSync(built)) throw new Error(`run \`npm run build\` first (${built})`);
    // Only the journal directory is closed to the user, not the way to it.
    await chmod(tempDir(), 0o755);
    const dir = join(tempDir(), "logs");
    await mkdir(dir, { mode: 0o555 });
    // Root may write anywhere: the run is started by an unprivileged user.
    const user = isRoot ? { uid: 65534, gid: 65534 } : {};
    const { stdout } = await run(
      process.execPath,
      [join(here, "fixtures", "create-run.mjs"), dir],
      {
        ...user,
        timeout: 30_000,
      },
    );
    const outcome = JSON.parse(stdout.trim()) as { code: string; message: string; cause: string };
    expectMisconfigured({ ...outcome, cause: { code: outcome.cause } }, dir, "EACCES");
    expect(await readdir(dir)).toEqual([]);
  });

  it("below a regular file (ENOTDIR) is STORAGE_MISCONFIGURED naming it, and reads find nothing", async () => {
    const file = join(tempDir(), "file");
    await writeFile(file, "not a directory");
    const dir = join(file, "logs");
    const storage = new FileSystemStorage({ dir });
    const error = await rejection(
      storage.createRun(sampleRun("wf", "run"), sampleStep("wf", "run", 0)),
    );
    expectMisconfigured(error, dir, "ENOTDIR");
    expect((await rejection(storage.getRun("wf", "run"))).code).toBe("RUN_NOT_FOUND");
  });

  it("that is a regular file is STORAGE_MISCONFIGURED naming it", async () => {
    const dir = join(tempDir(), "logs");
    await writeFile(dir, "not a directory");
    const storage = new FileSystemStorage({ dir });
    const error = await rejection(
      storage.createRun(sampleRun("wf", "run"), sampleStep("wf", "run", 0)),
    );
    expectMisconfigured(error, dir, "EEXIST");
  });

  it("holding a layout written by a newer version is STORAGE_MISCONFIGURED, saying to upgrade", async () => {
    const dir = tempDir();
    await writeFile(join(dir, ".wf-layout.json"), JSON.stringify({ version: 99 }));
    const storage = new FileSystemStorage({ dir });
    const error = await rejection(storage.listWorkflows());
    expect(error.code).toBe("STORAGE_MISCONFIGURED");
    expect(error.message).toContain("layout version 99");
    expect(error.message).toContain("upgrade @wf/storage-fs");
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
