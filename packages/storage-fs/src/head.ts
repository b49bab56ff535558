import type { Stats } from "node:fs";
import { type FileHandle, open, rename, unlink } from "node:fs/promises";
import type { RunPaths } from "./layout.js";
import { errnoCode, isMissing } from "./os-errors.js";
import { exists } from "./read-records.js";

/**
 * Finding a run's head without listing its steps.
 *
 * A run's step files are contiguous from its first record to its head: step n
 * is published only once step n-1 exists, and steps are removed only with
 * their run. So a step file that exists is at or below the head, and the head
 * is the last step of the unbroken sequence above it.
 *
 * head.json is a second name (a hard link) of the newest step file, given by
 * renaming the temporary name the step was written under, so it costs an
 * append no write of its own. It is only a hint: not flushed, and a crash,
 * a power loss or a racing writer can leave it naming an older step, or
 * missing; after a power loss with `fsync: false` it can even name a step
 * whose own link was lost. Readers trust it only as far as the step files
 * confirm it.
 */
export interface HeadHint {
  /** The step number head.json names. */
  step: number;
  /**
   * Its parsed JSON, not checked: a hint is only trusted as far as the step
   * files confirm it, and its record is checked when read as the head's.
   */
  value: unknown;
  /** The file head.json named when it was read, to tell whether it is still that step's file. */
  file: Stats;
}

/**
 * head.json, or undefined when it is missing, or not JSON naming a step
 * number (written by hand, its data lost, or its step file damaged: readers
 * then search the step files, and read the head's file as any step).
 */
export async function readHeadHint(paths: RunPaths): Promise<HeadHint | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(paths.headFile, "r");
  } catch (error) {
    if (isMissing(error) || errnoCode(error) === "EISDIR") return undefined;
    throw error;
  }
  try {
    const file = await handle.stat();
    if (!file.isFile()) return undefined;
    // A step file never changes, so its size is its length: one read.
    const bytes = Buffer.allocUnsafe(file.size);
    let length = 0;
    while (length < bytes.length) {
      const { bytesRead } = await handle.read(bytes, length, bytes.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    let value: unknown;
    try {
      value = JSON.parse(bytes.toString("utf8", 0, length));
    } catch {
      return undefined;
    }
    const step = (value as { step?: unknown } | null)?.step;
    if (typeof step !== "number" || !Number.isSafeInteger(step) || step < 0) return undefined;
    return { step, value, file };
  } finally {
    await handle.close();
  }
}

/**
 * Whether `hint` was read from the file `stats` describes, the step file of
 * its number, rather than from another record with that number.
 */
export function isHintOf(hint: HeadHint, stats: Stats): boolean {
  // A file system without inode numbers reports 0 for every file: no proof.
  return stats.ino !== 0 && hint.file.ino === stats.ino && hint.file.dev === stats.dev;
}

/**
 * Makes `temp`, a name of the just-published step file, the run's head.json.
 * Not flushed, and a failure is ignored: the step files are the truth, and a
 * hint left behind costs readers a few more probes, never a wrong answer.
 */
export async function renameToHead(temp: string, paths: RunPaths): Promise<void> {
  try {
    await rename(temp, paths.headFile);
  } catch {
    // Windows may refuse to replace a file another program holds open.
    await unlink(temp).catch(() => undefined);
  }
}

/**
 * The head, given a step `known` to exist: probes known+1, +3, +7, … until a
 * step is missing, then bisects the last stride. One stat when `known` is the
 * head, about 2·log2(distance) when it lags far behind, never a listing.
 */
export async function lastStepFrom(paths: RunPaths, known: number): Promise<number> {
  let found = known;
  let stride = 1;
  while (await exists(paths.stepFile(found + stride))) {
    found += stride;
    stride *= 2;
  }
  let missing = found + stride;
  while (missing - found > 1) {
    const middle = found + Math.floor((missing - found) / 2);
    if (await exists(paths.stepFile(middle))) found = middle;
    else missing = middle;
  }
  return found;
}
