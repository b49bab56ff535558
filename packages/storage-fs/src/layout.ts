import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { CorruptRecordError, StorageMisconfiguredError } from "@wf/core";
import {
  publishNewFile,
  removeStaleTemps,
  syncDirectory,
  tempPath,
  writeNewFile,
} from "./atomic-write.js";
import { decodeId, encodeId } from "./encode-id.js";
import { errnoCode, STORAGE_NAME } from "./os-errors.js";
import { readJsonFile } from "./read-records.js";

/**
 * Where things live under the journal directory (layout version 1):
 *
 *   .wf-layout.json                          {"version":1}
 *   w-<workflow>/workflow.json               {"workflowId":"…"}, the id verbatim
 *   w-<workflow>/r-<run>/run.json            the run's metadata as created, never changed
 *   w-<workflow>/r-<run>/head.json           a hard link to the newest step file: a hint, see head.ts
 *   w-<workflow>/r-<run>/steps/000000000042.json   step 42, written once, never changed
 *   .tmp-*  (anywhere)                       a write in progress, or left by a crash
 *
 * `<workflow>` and `<run>` are ids encoded by encodeId. run.json's headStep,
 * status and updatedAt are those of the run's first record; directories
 * written before head.json existed rewrote run.json after each append, which
 * readers accept (its headStep is then some step of the run, and the head is
 * searched from there), so the layout version stays 1.
 */
export const LAYOUT_VERSION = 1;
export const LAYOUT_FILE = ".wf-layout.json";
export const WORKFLOW_FILE = "workflow.json";
export const RUN_FILE = "run.json";
export const HEAD_FILE = "head.json";
export const STEPS_DIR = "steps";
const WORKFLOW_PREFIX = "w-";
const RUN_PREFIX = "r-";
/** Zero-padded so a directory listing sorts by step number (up to 10^12 steps). */
const STEP_DIGITS = 12;
const STEP_FILE = /^(\d+)\.json$/;

export function isWorkflowDirName(name: string): boolean {
  return name.startsWith(WORKFLOW_PREFIX);
}

export function isRunDirName(name: string): boolean {
  return name.startsWith(RUN_PREFIX);
}

export function workflowDirName(workflowId: string): string {
  return WORKFLOW_PREFIX + encodeId(workflowId);
}

export function runDirName(runId: string): string {
  return RUN_PREFIX + encodeId(runId);
}

/** The run id a run directory's name encodes, when the name can tell (not a hashed long id). */
export function runIdOfDirName(name: string): string | undefined {
  return isRunDirName(name) ? decodeId(name.slice(RUN_PREFIX.length)) : undefined;
}

export function stepFileName(step: number): string {
  return `${String(step).padStart(STEP_DIGITS, "0")}.json`;
}

/** The step number a file in `steps/` holds, or null for anything else (such as a temporary file). */
export function parseStepFileName(name: string): number | null {
  const match = STEP_FILE.exec(name);
  return match ? Number(match[1]) : null;
}

/** Paths of one run's files. */
export class RunPaths {
  readonly workflowDir: string;
  /** The run directory's name, `r-<run>`. */
  readonly name: string;
  readonly dir: string;
  readonly runFile: string;
  readonly headFile: string;
  readonly stepsDir: string;

  constructor(workflowDir: string, runDir: string) {
    this.workflowDir = workflowDir;
    this.name = runDir;
    this.dir = join(workflowDir, runDir);
    this.runFile = join(this.dir, RUN_FILE);
    this.headFile = join(this.dir, HEAD_FILE);
    this.stepsDir = join(this.dir, STEPS_DIR);
  }

  static of(root: string, workflowId: string, runId: string): RunPaths {
    return new RunPaths(join(root, workflowDirName(workflowId)), runDirName(runId));
  }

  stepFile(step: number): string {
    return join(this.stepsDir, stepFileName(step));
  }
}

/**
 * Checks the layout marker of `root`: true when present and readable by this
 * version, false when absent (nothing was written there yet). A layout newer
 * than this code is refused rather than misread.
 */
export async function checkLayout(root: string): Promise<boolean> {
  const marker = join(root, LAYOUT_FILE);
  const value = await readJsonFile(marker);
  if (value === undefined) return false;
  const version = (value as { version?: unknown } | null)?.version;
  if (!Number.isSafeInteger(version)) {
    throw new CorruptRecordError(marker, `its "version" is not a layout version`);
  }
  if ((version as number) > LAYOUT_VERSION) {
    throw new StorageMisconfiguredError(
      STORAGE_NAME,
      `${root} has layout version ${version}, newer than this @wf/storage-fs reads (${LAYOUT_VERSION}); upgrade @wf/storage-fs, or pass another \`dir\``,
    );
  }
  return true;
}

/**
 * Creates `root` and its layout marker. Several processes may do this at
 * once: the marker is published with link, so the first one stays and the
 * others find it. A future layout version upgrades here, the same way.
 */
export async function createLayout(root: string, durable: boolean): Promise<void> {
  try {
    await mkdir(root, { recursive: true });
  } catch (error) {
    const code = errnoCode(error);
    if (code !== "EEXIST" && code !== "ENOTDIR") throw error;
    throw new StorageMisconfiguredError(
      STORAGE_NAME,
      `${root} is not a directory (${code}): a file is in the way; move it, or pass another \`dir\``,
      { cause: error },
    );
  }
  await removeStaleTemps(root);
  const temp = tempPath(root);
  await writeNewFile(temp, `${JSON.stringify({ version: LAYOUT_VERSION })}\n`, durable);
  if (await publishNewFile(temp, join(root, LAYOUT_FILE))) await syncDirectory(root, durable);
  await checkLayout(root);
}
