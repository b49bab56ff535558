import type { JsonValue, RunMetadata } from "./journal.js";

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
