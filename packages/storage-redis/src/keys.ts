import type { RunStatus } from "@wf/core";

/**
 * The key layout, version 1. With the default prefix `wf:`:
 *
 *   wf:v1:{<workflow>}:run:<run>          hash: the run's metadata fields and one field per step
 *   wf:v1:{<workflow>}:runs               sorted set: every run of the workflow (listing order)
 *   wf:v1:{<workflow>}:runs:<status>      sorted set: the runs whose head has that status
 *   wf:v1:{<workflow>}:expiry             sorted set: runs with a TTL, scored by expiry time
 *   wf:v1:workflows                       sorted set: workflow ids that have (or had) runs
 *
 * Every key of a workflow carries the hash tag `{<workflow>}`, so on Redis
 * Cluster all of them live in one slot and one Lua script may touch a run and
 * the workflow's listing indexes together. The price is that one workflow's
 * runs cannot spread over several shards; many workflows do.
 */
export const LAYOUT_VERSION = 1;

const KEPT = /^[A-Za-z0-9_.-]$/;
/** An id made of kept characters only, as every id core allows is: encoded as itself. */
const ALL_KEPT = /^[A-Za-z0-9_.-]*$/;

/**
 * Escapes every UTF-16 code unit outside `[A-Za-z0-9_.-]` as `%hh` or
 * `%uhhhh`. Every store method applies core's id rule first, so the ids
 * that reach this pass unchanged; the escaping stays as defence in depth,
 * should anything call it with another id. The result
 * cannot contain `{`, `}` (which would move the hash tag), `:` (the
 * separator), glob characters (`*?[]\`) or anything non-ASCII; `%` itself is
 * escaped, so the encoding is injective and `a.b` and `a%2eb` stay two ids.
 * Code units rather than UTF-8 bytes keep lone surrogates distinct.
 */
export function encodeId(id: string): string {
  if (ALL_KEPT.test(id)) return id;
  let out = "";
  for (let i = 0; i < id.length; i++) {
    const char = id.charAt(i);
    if (KEPT.test(char)) {
      out += char;
      continue;
    }
    const unit = id.charCodeAt(i);
    out +=
      unit < 0x100
        ? `%${unit.toString(16).padStart(2, "0")}`
        : `%u${unit.toString(16).padStart(4, "0")}`;
  }
  return out;
}

/**
 * A prefix may hold any character except braces: a `{` in it would take over
 * the hash tag. Without braces, no prefix's keys can equal another prefix's
 * (every key continues `v1:{` or `v1:workflows` after its prefix).
 */
export function checkPrefix(prefix: unknown): string {
  if (typeof prefix !== "string") {
    throw new TypeError(`prefix must be a string, got ${typeof prefix}`);
  }
  if (/[{}]/.test(prefix)) {
    throw new TypeError(
      `prefix ${JSON.stringify(prefix)} must not contain "{" or "}": they would change the Redis Cluster hash tag`,
    );
  }
  return prefix;
}

/** The keys one run's scripts touch, in the order every script expects them (KEYS[1..8]). */
export type RunKeys = readonly [
  run: string,
  all: string,
  expiry: string,
  running: string,
  waitingForInput: string,
  completed: string,
  failed: string,
  cancelled: string,
];

/** The keys of a workflow's indexes (KEYS[1..7] of the index scripts). */
export type IndexKeys = readonly [
  all: string,
  expiry: string,
  running: string,
  waitingForInput: string,
  completed: string,
  failed: string,
  cancelled: string,
];

/**
 * Position of each status's index among the RunKeys. `cancelled` came last
 * and is appended, so the keys of the four older statuses keep their
 * positions; a workflow written before it simply has no cancelled key yet,
 * which Redis treats as an empty sorted set.
 */
export const STATUS_ORDER = [
  "running",
  "waiting_for_input",
  "completed",
  "failed",
  "cancelled",
] as const satisfies readonly RunStatus[];

/** Fails to compile when core gains a status this layout has no index for. */
type Unindexed = Exclude<RunStatus, (typeof STATUS_ORDER)[number]>;
const everyStatusIndexed: [Unindexed] extends [never] ? true : Unindexed = true;
void everyStatusIndexed;

/** How many index keys a workflow has: all runs, expiry, then one per status. */
export const INDEX_COUNT = 2 + STATUS_ORDER.length;

export class KeyLayout {
  readonly workflows: string;
  readonly #root: string;

  constructor(readonly prefix: string) {
    this.#root = `${checkPrefix(prefix)}v${LAYOUT_VERSION}:`;
    this.workflows = `${this.#root}workflows`;
  }

  indexKeys(workflowId: string): IndexKeys {
    const base = `${this.#root}{${encodeId(workflowId)}}:`;
    return [
      `${base}runs`,
      `${base}expiry`,
      ...(STATUS_ORDER.map((status) => `${base}runs:${status}`) as [
        string,
        string,
        string,
        string,
        string,
      ]),
    ];
  }

  runKeys(workflowId: string, runId: string): RunKeys {
    return [this.runKey(workflowId, runId), ...this.indexKeys(workflowId)];
  }

  runKey(workflowId: string, runId: string): string {
    const tag = encodeId(workflowId);
    return `${this.#root}{${tag}}:run:${encodeId(runId)}`;
  }
}
