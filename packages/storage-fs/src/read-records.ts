import type { Stats } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { CorruptRecordError, type RunMetadata, type StepRecord } from "@wf/core";
import { isMissing } from "./os-errors.js";

/**
 * Reading what the layout holds. Records are plain JSON parsed with
 * JSON.parse, which keeps keys like `__proto__` as data; a file that does not
 * parse or does not have the shape of its record is CORRUPT_RECORD naming it.
 */

/** The parsed JSON of `path`, or undefined when the file does not exist. */
export async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const reason =
      text.length === 0
        ? "the file is empty"
        : `it is not valid JSON (${(error as Error).message}), perhaps truncated`;
    throw new CorruptRecordError(path, reason, { cause: error });
  }
}

/** The stats of `path`, or undefined when it does not exist. */
export async function statIfExists(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

export async function exists(path: string): Promise<boolean> {
  return (await statIfExists(path)) !== undefined;
}

/** Entry names of `dir`, none when it does not exist. */
export async function listDirectory(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isStepNumber(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** Checks that `value`, read from `path`, is the metadata of the run `expected` (any run id when omitted). */
export function parseRunMetadata(
  value: unknown,
  path: string,
  expected: { workflowId: string; runId?: string },
): RunMetadata {
  if (!isObject(value)) throw new CorruptRecordError(path, "it is not a run metadata object");
  for (const field of ["workflowId", "runId", "createdAt", "updatedAt", "status"]) {
    if (typeof value[field] !== "string") {
      throw new CorruptRecordError(path, `its "${field}" is not a string`);
    }
  }
  if (!isStepNumber(value.headStep)) {
    throw new CorruptRecordError(path, `its "headStep" is not a step number`);
  }
  // Guards against a run directory copied or moved by hand under another id.
  if (
    value.workflowId !== expected.workflowId ||
    (expected.runId !== undefined && value.runId !== expected.runId)
  ) {
    throw new CorruptRecordError(
      path,
      `it belongs to run ${JSON.stringify(value.runId)} of workflow ${JSON.stringify(value.workflowId)}`,
    );
  }
  return value as unknown as RunMetadata;
}

/** Checks that `value`, read from `path`, is step record `step`. */
export function parseStepRecord(value: unknown, path: string, step: number): StepRecord {
  if (!isObject(value)) throw new CorruptRecordError(path, "it is not a step record object");
  if (value.step !== step) {
    throw new CorruptRecordError(path, `it holds step ${JSON.stringify(value.step)}, not ${step}`);
  }
  return value as unknown as StepRecord;
}

/** Checks that `value`, read from `path`, names a workflow. */
export function parseWorkflowId(value: unknown, path: string): string {
  if (!isObject(value) || typeof value.workflowId !== "string") {
    throw new CorruptRecordError(path, `its "workflowId" is not a string`);
  }
  return value.workflowId;
}
