import { InvalidCursorError } from "./errors.js";
import type { JsonValue, RunMetadata } from "./journal.js";
import {
  checkListOptions,
  type DamagedRun,
  type ListRunsOptions,
  type RunPage,
} from "./storage.js";

/**
 * Cursors are opaque to callers. Adapters that page by a key (keyset
 * pagination) can use these helpers to carry that key as a URL-safe string.
 */
export function encodeCursor(position: JsonValue): string {
  return Buffer.from(JSON.stringify(position), "utf8").toString("base64url");
}

/**
 * The position a cursor carries. INVALID_CURSOR when it is not one of
 * `encodeCursor`'s, or when `accept` (the adapter's check of the position's
 * shape) refuses it.
 */
export function decodeCursor<T extends JsonValue = JsonValue>(
  cursor: string,
  accept?: (position: JsonValue) => position is T,
): T {
  let position: JsonValue;
  try {
    if (typeof cursor !== "string" || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error();
    position = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as JsonValue;
  } catch {
    throw new InvalidCursorError(cursor);
  }
  if (accept && !accept(position)) throw new InvalidCursorError(cursor);
  return position as T;
}

/** A step-number cursor's position (listSteps). */
export function isStepPosition(position: JsonValue): position is number {
  return typeof position === "number" && Number.isSafeInteger(position) && position >= -1;
}

/** A text cursor's position (listWorkflows). */
export function isTextPosition(position: JsonValue): position is string {
  return typeof position === "string";
}

/** A `listRuns` cursor's position: `[createdAt, runId]` of the last run of the page. */
export function isRunPosition(position: JsonValue): position is [string, string] {
  return (
    Array.isArray(position) &&
    position.length === 2 &&
    typeof position[0] === "string" &&
    typeof position[1] === "string"
  );
}

/** Order of `listRuns`: newest `createdAt` first, then `runId` descending. */
export function compareRunsNewestFirst(
  a: Pick<RunMetadata, "createdAt" | "runId">,
  b: Pick<RunMetadata, "createdAt" | "runId">,
): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? 1 : -1;
  if (a.runId !== b.runId) return a.runId < b.runId ? 1 : -1;
  return 0;
}

/**
 * One page of `listRuns` from runs already in memory (any order): filtered by
 * status, newest first, after the cursor. For adapters that read every run's
 * metadata to list them; adapters with an index should page by key instead.
 * `damaged` are the runs whose metadata could not be read; the first page
 * reports them.
 */
export function pageRuns(
  runs: Iterable<RunMetadata>,
  options: ListRunsOptions = {},
  damaged: readonly DamagedRun[] = [],
): RunPage {
  const { limit, cursor, status } = checkListOptions(options);
  const after = cursor === null ? null : decodeCursor(cursor, isRunPosition);
  const matching = [...runs]
    .filter((run) => status === undefined || run.status === status)
    .filter(
      (run) =>
        after === null || compareRunsNewestFirst(run, { createdAt: after[0], runId: after[1] }) > 0,
    )
    .sort(compareRunsNewestFirst);
  const items = matching.slice(0, limit);
  const last = items.at(-1);
  return {
    items,
    nextCursor: matching.length > limit && last ? encodeCursor([last.createdAt, last.runId]) : null,
    // Damaged runs have no creation time to page by: the first page reports them all.
    damaged: after === null ? [...damaged] : [],
  };
}
