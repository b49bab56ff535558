/**
 * The indexes: which runs a workflow has (newest first, optionally by
 * status) and which workflows have runs, answered from key listings without
 * reading every step.
 *
 * Entries are written before the write that makes them true and removed
 * after the write that makes them false, so an index may hold stale entries
 * (a writer died, or lost a race) but never misses a run. A listing checks
 * each candidate against its run document and head, skips stale entries, and
 * deletes those that can never become true again: a status entry whose run
 * has since appended a step with another status. Entries name the run's
 * incarnation, so an entry left by a deleted or never-created run is never
 * taken for a later run with the same id.
 *
 * A run whose document is damaged is reported in the page's `damaged`, never
 * skipped and never fatal, whatever the status filter: its status cannot be
 * read. So every listing walks the index of all runs, which holds every run;
 * with a status filter, the status index (walked alongside, in the same
 * order) tells which runs may have that status: those are read in full, the
 * others only have their document checked for damage.
 */
import {
  CorruptRecordError,
  type DamagedRun,
  InvalidCursorError,
  isValidId,
  type ListRunsOptions,
  type ListStepsOptions,
  type Page,
  RUN_STATUSES,
  type RunMetadata,
  type RunPage,
  type RunStatus,
} from "@wf/core";
import {
  checkListOptions,
  decodeCursor,
  encodeCursor,
  isRunPosition,
  isTextPosition,
} from "@wf/core/storage";
import type { Bucket } from "./bucket.js";
import { mapLimited } from "./concurrency.js";
import { indexEntry, type RunDocument, workflowMarker } from "./documents.js";
import { keySegment } from "./id-codes.js";
import type { IndexEntry, KeyLayout, RunKeys } from "./key-layout.js";
import type { RunStates } from "./run-state.js";

/** Extra keys fetched per listing request, for stale entries and several entries of one run. */
const LISTING_SLACK = 8;
const MAX_KEYS = 1000;
/** Longest `createdAt` a listRuns cursor may carry: the engine writes 24 characters. */
const MAX_CURSOR_TIME = 64;

/** What a listing learned of one run: its metadata, or why it could not be read. */
type Verified = { run: RunMetadata } | { damaged: DamagedRun };

export class RunIndex {
  readonly #bucket: Bucket;
  readonly #layout: KeyLayout;
  readonly #states: RunStates;
  readonly #concurrency: number;

  constructor(bucket: Bucket, layout: KeyLayout, states: RunStates, concurrency: number) {
    this.#bucket = bucket;
    this.#layout = layout;
    this.#states = states;
    this.#concurrency = concurrency;
  }

  /** The entries a new run needs, keyed by object key, written before its document. */
  entriesOfNewRun(keys: RunKeys, run: RunMetadata, incarnation: string): Map<string, string> {
    const order = this.#layout.order(run.createdAt, run.runId);
    return new Map([
      [this.#layout.allEntry(keys.workflowSegment, order, incarnation), indexEntry(run)],
      [
        this.#layout.statusEntry(
          keys.workflowSegment,
          run.status,
          order,
          incarnation,
          run.headStep,
        ),
        indexEntry(run, run.headStep),
      ],
    ]);
  }

  /**
   * Files the run under `status` from `step` on; done before the step that
   * changes the status is written. Returns the entry's key.
   */
  async enterStatus(
    keys: RunKeys,
    run: RunMetadata,
    incarnation: string,
    status: RunStatus,
    step: number,
  ): Promise<string> {
    const order = this.#layout.order(run.createdAt, run.runId);
    const key = this.#layout.statusEntry(keys.workflowSegment, status, order, incarnation, step);
    await this.#bucket.put(key, indexEntry(run, step));
    return key;
  }

  /** Removes the run's entries under `status` made before `step`, which the step just made obsolete. */
  async leaveStatus(
    keys: RunKeys,
    run: RunMetadata,
    incarnation: string,
    status: RunStatus,
    step: number,
  ): Promise<void> {
    const order = this.#layout.order(run.createdAt, run.runId);
    const prefix = this.#layout.statusEntriesOf(keys.workflowSegment, status, order, incarnation);
    const obsolete: string[] = [];
    for await (const page of this.#bucket.keys(prefix)) {
      for (const key of page) {
        const entry = this.#layout.entryOf(
          this.#layout.indexPrefix(keys.workflowSegment, status),
          key,
        );
        if (entry?.step !== null && entry?.step !== undefined && entry.step < step)
          obsolete.push(key);
      }
    }
    await this.#bucket.deleteAll(obsolete);
  }

  /** Every entry of one incarnation of a run, in every index. */
  async entriesOf(keys: RunKeys, document: RunDocument): Promise<string[]> {
    const { run, incarnation } = document;
    const order = this.#layout.order(run.createdAt, run.runId);
    const byStatus = await Promise.all(
      RUN_STATUSES.map(async (status) => {
        const found: string[] = [];
        const prefix = this.#layout.statusEntriesOf(
          keys.workflowSegment,
          status,
          order,
          incarnation,
        );
        for await (const page of this.#bucket.keys(prefix)) found.push(...page);
        return found;
      }),
    );
    return [this.#layout.allEntry(keys.workflowSegment, order, incarnation), ...byStatus.flat()];
  }

  /** Puts the workflow's marker; createRun does it after writing the run's entries (see retireMarker). */
  async markWorkflow(workflowId: string): Promise<void> {
    await this.#bucket.put(this.#layout.marker(workflowId), workflowMarker(workflowId));
  }

  /**
   * Deletes the workflow's marker once it has no index entries left. A
   * createRun racing with this writes its entry before its marker: if its
   * marker put came before our delete, the entry is visible to the second
   * look and the marker goes back.
   */
  async retireMarker(keys: RunKeys): Promise<void> {
    const prefix = this.#layout.indexPrefix(keys.workflowSegment);
    const hasEntries = async () =>
      (await this.#bucket.list({ prefix, maxKeys: 1 })).keys.length > 0;
    if (await hasEntries()) return;
    await this.#bucket.delete(this.#layout.marker(keys.workflowId));
    if (await hasEntries()) await this.markWorkflow(keys.workflowId);
  }

  async listRuns(workflowId: string, options: ListRunsOptions): Promise<RunPage> {
    const { limit, cursor, status } = checkListOptions(options);
    const after = cursor === null ? null : runCursor(cursor);
    const workflowSegment = keySegment(workflowId, "workflowId");
    const prefix = this.#layout.indexPrefix(workflowSegment);
    const afterOrder = after && this.#layout.order(after.createdAt, after.runId);
    const statusEntries =
      status === undefined
        ? null
        : new StatusEntries(this.#bucket, this.#layout, workflowSegment, status, afterOrder);
    const found = await this.#collect(
      limit + 1,
      async (continuationToken, wanted) => {
        const page = await this.#bucket.list({
          prefix,
          startAfter: afterOrder ? this.#layout.pastRun(prefix, afterOrder) : undefined,
          continuationToken,
          // With a status, most runs walked past may not have it: list in full pages.
          maxKeys: statusEntries ? MAX_KEYS : Math.min(MAX_KEYS, wanted + LISTING_SLACK),
        });
        return { ...page, keys: page.keys.flatMap((key) => this.#entry(prefix, key)) };
      },
      (group) => this.#verifiedRun(workflowId, group, statusEntries),
      (result) => "run" in result,
    );
    // The page ends at its last run: damaged runs met past it are met again by the next page.
    const items: RunMetadata[] = [];
    const damaged = new Map<string, DamagedRun>();
    let pending: DamagedRun[] = [];
    let more = false;
    for (const result of found) {
      if ("damaged" in result) {
        pending.push(result.damaged);
        continue;
      }
      if (items.length === limit) {
        more = true;
        break;
      }
      items.push(result.run);
      for (const run of pending) damaged.set(run.runId, run);
      pending = [];
    }
    if (!more) for (const run of pending) damaged.set(run.runId, run);
    const last = items.at(-1);
    return {
      items,
      nextCursor: more && last ? encodeCursor([last.createdAt, last.runId]) : null,
      damaged: [...damaged.values()],
    };
  }

  async listWorkflows(options: ListStepsOptions): Promise<Page<string>> {
    const { limit, cursor } = checkListOptions(options);
    const after = cursor === null ? null : workflowCursor(cursor);
    const prefix = this.#layout.markersPrefix;
    const found = await this.#collect(
      limit + 1,
      async (continuationToken, wanted) => {
        const page = await this.#bucket.list({
          prefix,
          startAfter: after === null ? undefined : this.#layout.marker(after),
          continuationToken,
          maxKeys: Math.min(MAX_KEYS, wanted + LISTING_SLACK),
        });
        const ids = page.keys.flatMap((key) => {
          const workflowId = this.#layout.workflowOf(key);
          // A workflow id outside the id rule (a marker written by hand, or
          // by a version that allowed it) can be used with no method.
          return workflowId !== null && isValidId(workflowId) ? [{ order: key, workflowId }] : [];
        });
        return { ...page, keys: ids };
      },
      async ([marker]) =>
        marker && (await this.#hasRuns(marker.workflowId)) ? marker.workflowId : null,
    );
    const items = found.slice(0, limit);
    const last = items.at(-1);
    return { items, nextCursor: found.length > limit && last ? encodeCursor(last) : null };
  }

  /**
   * Every index entry of a run whose document is damaged, found by its run id
   * alone (the document's `createdAt`, which places the entries, cannot be
   * trusted): a walk of the workflow's index of all runs, then the status
   * entries of what it found. Entries of any incarnation: those of others are
   * stale. Only deleteRun of a damaged run pays for this walk.
   */
  async entriesOfRunId(keys: RunKeys): Promise<string[]> {
    const prefix = this.#layout.indexPrefix(keys.workflowSegment);
    const found: string[] = [];
    const runs = new Map<string, IndexEntry>();
    for await (const page of this.#bucket.keys(prefix)) {
      for (const key of page) {
        const entry = this.#layout.entryOf(prefix, key);
        if (entry?.runId !== keys.runId) continue;
        found.push(key);
        runs.set(`${entry.order}/${entry.incarnation}`, entry);
      }
    }
    const statusEntries = await mapLimited(
      [...runs.values()].flatMap((entry) => RUN_STATUSES.map((status) => ({ entry, status }))),
      this.#concurrency,
      async ({ entry, status }) => {
        const keysOf: string[] = [];
        const entries = this.#layout.statusEntriesOf(
          keys.workflowSegment,
          status,
          entry.order,
          entry.incarnation,
        );
        for await (const page of this.#bucket.keys(entries)) keysOf.push(...page);
        return keysOf;
      },
    );
    return [...found, ...statusEntries.flat()];
  }

  /**
   * Walks a listing in order, grouping consecutive items of one `order`, and
   * checks groups (several at once) until `wanted` results that `counts` pass.
   * A group at the end of a page is held back until the next page shows
   * whether it continues. Results come in listing order.
   */
  async #collect<T extends { order: string }, R>(
    wanted: number,
    list: (
      token: string | null,
      wanted: number,
    ) => Promise<{ keys: T[]; continuationToken: string | null }>,
    check: (group: T[]) => Promise<R | null | undefined>,
    counts: (result: R) => boolean = () => true,
  ): Promise<R[]> {
    const found: R[] = [];
    let counted = 0;
    const ready: T[][] = [];
    let open: T[] | null = null;
    let token: string | null = null;
    let exhausted = false;
    while (counted < wanted) {
      if (ready.length === 0) {
        if (exhausted) break;
        const page = await list(token, wanted - counted);
        for (const item of page.keys) {
          if (open && open[0]?.order === item.order) open.push(item);
          else {
            if (open) ready.push(open);
            open = [item];
          }
        }
        token = page.continuationToken;
        if (!token) {
          exhausted = true;
          if (open) ready.push(open);
          open = null;
        }
        continue;
      }
      const batch = ready.splice(0, wanted - counted);
      for (const result of await mapLimited(batch, this.#concurrency, check)) {
        if (result === null || result === undefined) continue;
        found.push(result);
        if (counts(result)) counted += 1;
      }
    }
    return found;
  }

  #entry(prefix: string, key: string): IndexEntry[] {
    const entry = this.#layout.entryOf(prefix, key);
    return entry ? [entry] : [];
  }

  /**
   * The run a group of entries of the all-runs index stands for, if they are
   * true of it and it has the status asked for; or the run's damage. Deletes
   * status entries that can never be true again.
   */
  async #verifiedRun(
    workflowId: string,
    group: IndexEntry[],
    statusEntries: StatusEntries | null,
  ): Promise<Verified | null> {
    const first = group[0] as IndexEntry;
    const keys = this.#layout.run(workflowId, first.runId);
    const inspected = await this.#states.inspect(keys);
    if (!inspected) return null;
    if ("damage" in inspected) {
      const { incarnation, damage } = inspected;
      // Entries of another incarnation are stale ones, of a run this document no longer is.
      if (incarnation !== null && !group.some((entry) => entry.incarnation === incarnation)) {
        return null;
      }
      return { damaged: damagedRun(first.runId, damage) };
    }
    const { document } = inspected;
    if (
      document.deleting ||
      document.run.createdAt !== first.createdAt ||
      !group.some((entry) => entry.incarnation === document.incarnation)
    ) {
      return null;
    }
    // No entry under the status: the run never had it (entries come before the steps that make them true).
    if (statusEntries && !(await statusEntries.has(first.order, document.incarnation))) return null;
    let state: Awaited<ReturnType<RunStates["read"]>>;
    try {
      state = await this.#states.read(keys, inspected);
    } catch (error) {
      if (error instanceof CorruptRecordError) return { damaged: damagedRun(first.runId, error) };
      throw error;
    }
    if (!state) return null;
    if (statusEntries && state.run.status !== statusEntries.status) {
      // Entries for steps up to the head, whose status differs: a later step
      // left that status for good, and appends never rewrite steps.
      const obsolete = statusEntries
        .entries(first.order, state.incarnation)
        .filter((entry) => entry.step !== null && entry.step <= state.run.headStep);
      // Housekeeping only: a listing does not fail over it.
      await this.#bucket.deleteAll(obsolete.map((entry) => entry.key)).catch(() => {});
      return null;
    }
    return { run: structuredClone(state.run) };
  }

  /** Whether a workflow has a run that exists: an all-runs entry of a live (or damaged) document. */
  async #hasRuns(workflowId: string): Promise<boolean> {
    const prefix = this.#layout.indexPrefix(keySegment(workflowId, "workflowId"));
    const found = await this.#collect(
      1,
      (continuationToken, wanted) =>
        this.#bucket
          .list({ prefix, continuationToken, maxKeys: Math.min(MAX_KEYS, wanted + LISTING_SLACK) })
          .then((page) => ({
            ...page,
            keys: page.keys.flatMap((key) => this.#entry(prefix, key)),
          })),
      async (group) => {
        const first = group[0] as IndexEntry;
        const found = await this.#states.inspect(this.#layout.run(workflowId, first.runId));
        if (!found) return null;
        const incarnation = "damage" in found ? found.incarnation : found.document.incarnation;
        const live =
          ("damage" in found || !found.document.deleting) &&
          (incarnation === null || group.some((entry) => entry.incarnation === incarnation));
        return live ? true : null;
      },
    );
    return found.length > 0;
  }
}

/**
 * The entries of one status index, listed alongside the index of all runs
 * (both are in the same order), so that a listing by status knows which runs
 * may have the status without a request per run.
 */
class StatusEntries {
  readonly #bucket: Bucket;
  readonly #layout: KeyLayout;
  readonly #prefix: string;
  readonly #byRun = new Map<string, IndexEntry[]>();
  readonly #startAfter: string | undefined;
  #token: string | null = null;
  #exhausted = false;
  /** The greatest order listed so far. */
  #last: string | null = null;
  #fetching: Promise<void> | null = null;
  readonly status: RunStatus;

  constructor(
    bucket: Bucket,
    layout: KeyLayout,
    workflowSegment: string,
    status: RunStatus,
    afterOrder: string | null,
  ) {
    this.#bucket = bucket;
    this.#layout = layout;
    this.status = status;
    this.#prefix = layout.indexPrefix(workflowSegment, status);
    this.#startAfter = afterOrder === null ? undefined : layout.pastRun(this.#prefix, afterOrder);
  }

  /** Whether the run at `order` has an entry under this status for `incarnation`. */
  async has(order: string, incarnation: string): Promise<boolean> {
    // Listings come in key order, which is `order` order: once past it, all its entries are in.
    while (!this.#exhausted && (this.#last === null || this.#last <= order)) {
      this.#fetching ??= this.#fetch().finally(() => {
        this.#fetching = null;
      });
      await this.#fetching;
    }
    return this.entries(order, incarnation).length > 0;
  }

  /** The entries listed for the run at `order`, of `incarnation`. */
  entries(order: string, incarnation: string): IndexEntry[] {
    return (this.#byRun.get(order) ?? []).filter((entry) => entry.incarnation === incarnation);
  }

  async #fetch(): Promise<void> {
    const page = await this.#bucket.list({
      prefix: this.#prefix,
      startAfter: this.#startAfter,
      continuationToken: this.#token,
      maxKeys: MAX_KEYS,
    });
    for (const key of page.keys) {
      const entry = this.#layout.entryOf(this.#prefix, key);
      if (!entry) continue;
      const entries = this.#byRun.get(entry.order) ?? [];
      entries.push(entry);
      this.#byRun.set(entry.order, entries);
      if (this.#last === null || entry.order > this.#last) this.#last = entry.order;
    }
    this.#token = page.continuationToken;
    this.#exhausted = this.#token === null;
  }
}

function damagedRun(runId: string, error: CorruptRecordError): DamagedRun {
  return { runId, location: error.location, reason: error.reason };
}

/** A listRuns cursor's position; INVALID_CURSOR for anything this store would not have handed out. */
function runCursor(cursor: string): { createdAt: string; runId: string } {
  const [createdAt, runId] = decodeCursor(cursor, isRunPosition);
  if (!isValidId(runId) || createdAt.length > MAX_CURSOR_TIME) throw new InvalidCursorError(cursor);
  return { createdAt, runId };
}

/** A listWorkflows cursor's position: the last workflow id of a page. */
function workflowCursor(cursor: string): string {
  const workflowId = decodeCursor(cursor, isTextPosition);
  if (!isValidId(workflowId)) throw new InvalidCursorError(cursor);
  return workflowId;
}
