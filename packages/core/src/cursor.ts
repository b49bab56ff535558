import type { JsonValue, RunMetadata } from "./journal.js";
import { type ListRunsOptions, type Page, pageSize } from "./storage.js";

/**
 * Cursors are opaque to callers. Adapters that page by a key (keyset
 * pagination) can use these helpers to carry that key as a URL-safe string.
 */
export function encodeCursor(position: JsonValue): string {
  return Buffer.from(JSON.stringify(position), "utf8").toString("base64url");
}

export function decodeCursor(cursor: string): JsonValue {
  try {
    return JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as JsonValue;
  } catch {
    throw new TypeError(`Not a cursor returned by this storage: ${JSON.stringify(cursor)}`);
  }
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
 */
export function pageRuns(
  runs: Iterable<RunMetadata>,
  options: ListRunsOptions = {},
): Page<RunMetadata> {
  const limit = pageSize(options.limit);
  const after = options.cursor ? (decodeCursor(options.cursor) as [string, string]) : null;
  const matching = [...runs]
    .filter((run) => options.status === undefined || run.status === options.status)
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
  };
}
