// Runs damaged on disk behind the store's back: listing a workflow lists its
// healthy runs and reports each damaged one (its run id and the file to look
// at) instead of failing, and deleteRun removes a damaged run whatever is
// wrong with it.
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import type { DamagedRun, RunStatus } from "@wf/core";
import { describe, expect, it } from "vitest";
import { FileSystemStorage } from "../src/index.js";
import { RunPaths } from "../src/layout.js";
import { rejection, sampleRun, sampleStep, useTempDir, walk } from "./helpers.js";

/** Creates run `runId` of "wf" with steps 0..head, the last one with `status`; returns its paths. */
async function seedRun(
  storage: FileSystemStorage,
  runId: string,
  head: number,
  status: RunStatus = "running",
): Promise<RunPaths> {
  await storage.createRun(sampleRun("wf", runId), sampleStep("wf", runId, 0));
  for (let step = 1; step <= head; step++) {
    await storage.appendStep(sampleStep("wf", runId, step, step === head ? { status } : {}));
  }
  return RunPaths.of(storage.dir, "wf", runId);
}

/** Every run and every damaged run of "wf", through every page of listRuns. */
async function listAll(storage: FileSystemStorage, status?: RunStatus) {
  const runs: string[] = [];
  const damaged: DamagedRun[] = [];
  let cursor: string | null = null;
  do {
    const page = await storage.listRuns("wf", { cursor, limit: 1, status });
    runs.push(...page.items.map((run) => run.runId));
    damaged.push(...page.damaged);
    cursor = page.nextCursor;
  } while (cursor);
  return { runs: runs.sort(), damaged: damaged.sort((a, b) => (a.runId < b.runId ? -1 : 1)) };
}

/** A run id long and uppercase enough that its directory name is hashed, not reversible. */
const HASHED_ID = `H${"X".repeat(127)}`;

describe("a damaged run", () => {
  const tempDir = useTempDir("damaged");

  it("does not stop listRuns: the healthy runs are listed and each damaged one is reported with its run id and the file to look at, under any status filter", async () => {
    const storage = new FileSystemStorage({ dir: tempDir() });
    await seedRun(storage, "healthy-running", 2);
    await seedRun(storage, "healthy-done", 1, "completed");
    const garbageRun = await seedRun(storage, "Garbage.Run", 1);
    await writeFile(garbageRun.runFile, "\u0000garbage{");
    const emptyRun = await seedRun(storage, "empty-run-json", 1);
    await writeFile(emptyRun.runFile, "{}");
    const noRun = await seedRun(storage, "no-run-json", 1);
    await rm(noRun.runFile);
    // The head's file rewritten in place: head.json, its second name, changes too.
    const garbageHead = await seedRun(storage, "garbage-head", 2);
    await writeFile(garbageHead.stepFile(2), "garbage");
    const bareHead = await seedRun(storage, "bare-head", 3);
    await writeFile(bareHead.stepFile(3), '{"step":3}');
    const hashed = await seedRun(storage, HASHED_ID, 1);
    await writeFile(hashed.runFile, "not json");

    const expected = [
      { runId: "Garbage.Run", location: garbageRun.runFile },
      { runId: HASHED_ID, location: hashed.runFile },
      { runId: "bare-head", location: bareHead.stepFile(3) },
      { runId: "empty-run-json", location: emptyRun.runFile },
      { runId: "garbage-head", location: garbageHead.stepFile(2) },
      { runId: "no-run-json", location: noRun.runFile },
    ].map((damaged) => ({ ...damaged, reason: expect.any(String) }));
    for (const status of [undefined, "running", "completed", "failed"] as const) {
      const healthy = { running: ["healthy-running"], completed: ["healthy-done"], failed: [] };
      expect(await listAll(storage, status)).toEqual({
        runs: status ? healthy[status] : ["healthy-done", "healthy-running"],
        damaged: expected,
      });
    }
    // Each damaged run's error names the same file.
    for (const { runId, location } of expected) {
      const error = await rejection(storage.getRun("wf", runId));
      expect(error.code).toBe("CORRUPT_RECORD");
      expect(error.message).toContain(location);
    }
  });

  it("is reported under its directory name when nothing on disk names its id, with the directory to remove", async () => {
    const storage = new FileSystemStorage({ dir: tempDir() });
    const paths = await seedRun(storage, HASHED_ID, 1);
    for (const file of [paths.runFile, paths.headFile, paths.stepFile(0), paths.stepFile(1)]) {
      await writeFile(file, "garbage");
    }
    const page = await storage.listRuns("wf");
    expect(page.items).toEqual([]);
    expect(page.damaged).toEqual([
      {
        runId: paths.name,
        location: paths.runFile,
        reason: expect.stringContaining(paths.dir),
      },
    ]);
  });

  it("is removed by deleteRun, whether its run.json is unreadable or missing, its head unreadable, or its step files missing; other runs are untouched", async () => {
    const dir = tempDir();
    const storage = new FileSystemStorage({ dir });
    const kept = await seedRun(storage, "kept", 2);
    const damage: [string, (paths: RunPaths) => Promise<void>][] = [
      ["garbage-run-json", (paths) => writeFile(paths.runFile, "garbage")],
      ["empty-run-json", (paths) => writeFile(paths.runFile, "{}")],
      ["no-run-json", (paths) => rm(paths.runFile)],
      ["garbage-head", (paths) => writeFile(paths.stepFile(2), "garbage")],
      ["no-steps", (paths) => rm(paths.stepsDir, { recursive: true })],
      ["middle-step-missing", (paths) => rm(paths.stepFile(1))],
      [
        "steps-is-a-file",
        async (paths) => {
          await rm(paths.stepsDir, { recursive: true });
          await writeFile(paths.stepsDir, "");
        },
      ],
      [
        "only-a-directory",
        async (paths) => {
          await rm(paths.dir, { recursive: true });
          await mkdir(paths.dir);
        },
      ],
    ];
    for (const [runId, spoil] of damage) await spoil(await seedRun(storage, runId, 2));
    const keptFiles = await Promise.all(
      [kept.runFile, kept.headFile, kept.stepFile(0), kept.stepFile(1), kept.stepFile(2)].map(
        (file) => readFile(file, "utf8"),
      ),
    );

    for (const [runId] of damage) await storage.deleteRun("wf", runId);

    for (const [runId] of damage) {
      expect((await rejection(storage.getRun("wf", runId))).code).toBe("RUN_NOT_FOUND");
      expect((await rejection(storage.deleteRun("wf", runId))).code).toBe("RUN_NOT_FOUND");
    }
    expect(await readdir(kept.workflowDir)).toEqual(["r-kept", "workflow.json"]);
    expect((await walk(kept.dir)).sort()).toEqual([
      "head.json",
      "run.json",
      "steps",
      "steps/000000000000.json",
      "steps/000000000001.json",
      "steps/000000000002.json",
    ]);
    expect(
      await Promise.all(
        [kept.runFile, kept.headFile, kept.stepFile(0), kept.stepFile(1), kept.stepFile(2)].map(
          (file) => readFile(file, "utf8"),
        ),
      ),
    ).toEqual(keptFiles);
    expect(await listAll(storage)).toEqual({ runs: ["kept"], damaged: [] });
  });

  it("without run.json is CORRUPT_RECORD naming run.json, not RUN_NOT_FOUND, and blocks creating the run again", async () => {
    const storage = new FileSystemStorage({ dir: tempDir() });
    const paths = await seedRun(storage, "run", 1);
    await rm(paths.runFile);
    for (const call of [
      () => storage.getRun("wf", "run"),
      () => storage.getLatestStep("wf", "run"),
      () => storage.listSteps("wf", "run"),
      () => storage.appendStep(sampleStep("wf", "run", 2)),
    ]) {
      const error = await rejection(call());
      expect(error.code, error.message).toBe("CORRUPT_RECORD");
      expect(error.message).toContain(paths.runFile);
    }
    const again = await rejection(
      storage.createRun(sampleRun("wf", "run"), sampleStep("wf", "run", 0)),
    );
    expect(again.code).toBe("RUN_EXISTS");
    expect(await readdir(paths.stepsDir)).toHaveLength(2);
  });
});
