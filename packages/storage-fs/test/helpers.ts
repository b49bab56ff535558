// Test helpers shared by the storage-fs test files: temporary directories,
// sample records, seeded runs, reading whole runs, and child processes
// running fixtures.
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { StepRecord, WorkflowStorage } from "@wf/core";
import { collectPages, rejection, sampleRun, sampleStep } from "@wf/storage-conformance";
import { ChildFixture } from "@wf/test-services";
import { afterEach, beforeEach } from "vitest";
import { FileSystemStorage } from "../src/index.js";
import { RunPaths } from "../src/layout.js";

const here = dirname(fileURLToPath(import.meta.url));

/** A fresh directory under the OS temp dir for each test, removed after it. */
export function useTempDir(label: string): () => string {
  let dir: string | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), `wf-fs-${label}-`));
  });
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });
  return () => {
    if (!dir) throw new Error("useTempDir: no test is running");
    return dir;
  };
}

export { rejection, sampleRun, sampleStep };

/** A store on `dir` holding run `runId` of `workflowId` with steps 0..head, and the run's paths. */
export async function seed(dir: string, workflowId: string, runId: string, head: number) {
  const storage = new FileSystemStorage({ dir });
  await storage.createRun(sampleRun(workflowId, runId), sampleStep(workflowId, runId, 0));
  for (let step = 1; step <= head; step++) {
    await storage.appendStep(sampleStep(workflowId, runId, step));
  }
  return { storage, paths: RunPaths.of(dir, workflowId, runId) };
}

/** Every record the store holds for a run, through every page of listSteps. */
export function allSteps(
  storage: WorkflowStorage,
  workflowId: string,
  runId: string,
): Promise<StepRecord[]> {
  return collectPages((cursor) => storage.listSteps(workflowId, runId, { cursor, limit: 50 }));
}

/** Every path under `dir` (files and directories), relative to it. */
export async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.map(String).sort();
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A fixture script of test/fixtures in a child process; fixtures import the built package. */
export class Fixture extends ChildFixture {
  constructor(script: string, args: string[] = []) {
    const built = join(here, "..", "dist", "index.js");
    if (!existsSync(built)) {
      throw new Error(`Fixtures import the built package: run \`npm run build\` first (${built}).`);
    }
    super(join(here, "fixtures", script), args);
  }
}
