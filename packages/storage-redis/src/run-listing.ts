/**
 * listRuns: a walk down a workflow's all-runs index (newest first), reading
 * each run's metadata. Damaged runs are reported beside the healthy ones;
 * entries of expired or re-created runs are dropped as they are met. A
 * status filter is applied to the metadata read, not through the status
 * indexes: a damaged run must be reported under any filter, since what it
 * holds cannot be trusted, so every run on the way has to be read anyway.
 * Each call examines a bounded number of entries, so a page of a rare
 * status may hold fewer runs than asked for (even none) while its
 * `nextCursor` says the listing goes on.
 */
import {
  CorruptRecordError,
  type DamagedRun,
  type RunMetadata,
  type RunPage,
  type RunStatus,
} from "@wf/core";
import { encodeCursor } from "@wf/core/storage";
import { onKey, type RedisClient } from "./client.js";
import type { KeyLayout } from "./keys.js";
import { hashFieldLocation, METADATA_FIELDS, readMetadata } from "./run-hash.js";
import { DROP_FOREIGN_ENTRY, DROP_STALE_ENTRY } from "./scripts.js";
import { parseSortKey, sortKey } from "./sort-key.js";

/** Most index entries one call examines beyond a full page (a bound on its cost). */
const EXAMINED_PER_CALL = 1000;
/** Index entries read per round trip while looking for runs of a status. */
const ROUND_SIZE = 100;

export interface RunListing {
  workflowId: string;
  limit: number;
  /** `[createdAt, runId]` of the last entry the previous page examined, or null. */
  after: [string, string] | null;
  status: RunStatus | undefined;
}

/** What an index entry turned out to be, and its position (null for a foreign member). */
type Entry = { position: [string, string] | null } & (
  | { kind: "run"; run: RunMetadata }
  | { kind: "damaged"; damaged: DamagedRun }
  /** Dropped: its run expired, was created again, or it is not a member the store writes. */
  | { kind: "gone" }
);

export async function listRunsPage(
  client: RedisClient,
  layout: KeyLayout,
  { workflowId, limit, after, status }: RunListing,
): Promise<RunPage> {
  const index = layout.indexKeys(workflowId)[0];
  const budget = limit + 1 + EXAMINED_PER_CALL;
  // Without a filter every healthy run counts, so no more than a page is read.
  const roundSize = status === undefined ? 1 : ROUND_SIZE;
  const items: RunMetadata[] = [];
  const damaged: DamagedRun[] = [];
  /** The last entry examined: where the next page starts. */
  let position = after;
  let examined = 0;
  let below = after ? `(${sortKey(...after)}` : "+";
  for (;;) {
    const wanted = Math.min(budget - examined, Math.max(limit + 1 - items.length, roundSize));
    const members = await onKey(
      index,
      "sorted set",
      client.zrevrangebylex(index, below, "-", "LIMIT", 0, wanted),
    );
    const entries = await Promise.all(
      members.map((member) => readEntry(client, layout, workflowId, member)),
    );
    for (const entry of entries) {
      if (entry.kind === "run" && (status === undefined || entry.run.status === status)) {
        // One run beyond the page: there is more, from the last entry examined.
        if (items.length === limit) return page(items, damaged, position);
        items.push(entry.run);
      } else if (entry.kind === "damaged") {
        damaged.push(entry.damaged);
      }
      examined += 1;
      // A dropped foreign member has no position; the one before it serves.
      position = entry.position ?? position;
    }
    const lowest = members.at(-1);
    if (lowest === undefined || members.length < wanted) return page(items, damaged, null);
    if (examined >= budget) return page(items, damaged, position);
    below = `(${lowest}`;
  }
}

function page(
  items: RunMetadata[],
  damaged: DamagedRun[],
  position: [string, string] | null,
): RunPage {
  return { items, nextCursor: position ? encodeCursor(position) : null, damaged };
}

/** The run an index entry points at: its metadata, damaged, or gone (and dropped). */
async function readEntry(
  client: RedisClient,
  layout: KeyLayout,
  workflowId: string,
  member: string,
): Promise<Entry> {
  const parts = parseSortKey(member);
  if (parts?.length !== 2 || sortKey(...parts) !== member) {
    await DROP_FOREIGN_ENTRY.run(client, layout.indexKeys(workflowId), [member]);
    return { kind: "gone", position: null };
  }
  const position = parts as [string, string];
  const runId = position[1];
  const keys = layout.runKeys(workflowId, runId);
  try {
    const fields = await onKey(
      keys[0],
      "hash",
      client.hmget(keys[0], ...METADATA_FIELDS, "member"),
    );
    if (fields[4] === member) {
      return { kind: "run", run: readMetadata(keys[0], fields, { workflowId, runId }), position };
    }
    const dropped = await DROP_STALE_ENTRY.run(client, keys, [member]);
    if (dropped === 2) {
      throw new CorruptRecordError(hashFieldLocation(keys[0], "member"), "the field is missing");
    }
    // 0: the run was created again with this very entry meanwhile: read it again.
    if (dropped === 0) return readEntry(client, layout, workflowId, member);
    return { kind: "gone", position };
  } catch (error) {
    if (!(error instanceof CorruptRecordError)) throw error;
    return {
      kind: "damaged",
      damaged: { runId, location: error.location, reason: error.reason },
      position,
    };
  }
}
