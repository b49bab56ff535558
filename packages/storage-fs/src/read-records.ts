import type { Stats } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { CorruptRecordError, type RunMetadata, type StepRecord } from "@wf/core";
import {
  checkRunMetadata,
  checkStepRecord,
  type ExpectedRecord,
  parseRecordJson,
} from "@wf/core/storage";
import { errnoCode, isMissing } from "./os-errors.js";

/**
 * Reading what the layout holds. Every file is parsed by core's
 * parseRecordJson, and every record checked by core's checkStepRecord and
 * checkRunMetadata against the journal format and the run asked for: a file
 * that does not parse or is not that record is CORRUPT_RECORD naming it.
 */

/** The parsed JSON of `path`, or undefined when the file does not exist. */
export async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if (isMissing(error)) return undefined;
    if (errnoCode(error) === "EISDIR") {
      throw new CorruptRecordError(path, "it is a directory, not a file", { cause: error });
    }
    throw error;
  }
  return parseRecordJson(text, path);
}

/** Step record `expected.step` from `path`, checked; undefined when the file does not exist. */
export async function readStepRecord(
  path: string,
  expected: ExpectedRecord,
): Promise<StepRecord | undefined> {
  const value = await readJsonFile(path);
  return value === undefined ? undefined : checkStepRecord(value, path, expected);
}

/** Run metadata from `path`, checked; undefined when the file does not exist. */
export async function readRunMetadata(
  path: string,
  expected: Omit<ExpectedRecord, "step">,
): Promise<RunMetadata | undefined> {
  const value = await readJsonFile(path);
  return value === undefined ? undefined : checkRunMetadata(value, path, expected);
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

/** Checks that `value`, read from `path`, names a workflow. */
export function parseWorkflowId(value: unknown, path: string): string {
  const workflowId = (value as { workflowId?: unknown } | null)?.workflowId;
  if (typeof workflowId !== "string") {
    throw new CorruptRecordError(path, `its "workflowId" is not a string`);
  }
  return workflowId;
}
