/**
 * The indexes: which runs a workflow has (newest first, optionally by
 * status) and which workflows have runs, answered from key listings without
 * reading every run.
 *
 * Entries are written before the write that makes them true and removed
 * after the write that makes them false, so an index may hold stale entries
 * (a writer died, or lost a race) but never misses a run. A listing checks
 * each candidate against its run document and head, skips stale entries, and
 * deletes those that can never become true again: a status entry whose run
 * has since appended a step with another status. Entries name the run's
 * incarnation, so an entry left by a deleted or never-created run is never
 * taken for a later run with the same id.
 */
import {
  decodeCursor,
  encodeCursor,
  type ListRunsOptions,
  type ListStepsOptions,
  type Page,
  pageSize,
  RUN_STATUSES,
  type RunMetadata,
  type RunStatus,
} from "@wf/core";
import type { Bucket } from "./bucket.js";
import { mapLimited } from "./concurrency.js";
import { indexEntry, type RunDocument, workflowMarker } from "./documents.js";
import { keySegment } from "./id-codes.js";
import type { IndexEntry, KeyLayout, RunKeys } from "./key-layout.js";
import type { RunStates } from "./run-state.js";

/** Extra keys fetched per listing request, for stale entries and several entries of one run. */
const LISTING_SLACK = 8;
const MAX_KEYS = 1000;

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

  /** Files the run under `status` from `step` on; done before the step that changes the status is written. */
  async enterStatus(
    keys: RunKeys,
    run: RunMetadata,
    incarnation: string,
    status: RunStatus,
    step: number,
  ): Promise<void> {
    const order = this.#layout.order(run.createdAt, run.runId);
    const key = this.#layout.statusEntry(keys.workflowSegment, status, order, incarnation, step);
    await this.#bucket.put(key, indexEntry(run, step));
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

  async listRuns(workflowId: string, options: ListRunsOptions): Promise<Page<RunMetadata>> {
    const limit = pageSize(options.limit);
    const { status } = options;
    const workflowSegment = keySegment(workflowId, "workflowId");
    const prefix = this.#layout.indexPrefix(workflowSegment, status);
    const after = options.cursor ? runCursor(options.cursor) : null;
    const startAfter = after
      ? this.#layout.pastRun(prefix, this.#layout.order(after.createdAt, after.runId))
      : undefined;
    const found = await this.#collect(
      limit + 1,
      async (continuationToken, wanted) => {
        const page = await this.#bucket.list({
          prefix,
          startAfter,
          continuationToken,
          maxKeys: Math.min(MAX_KEYS, wanted + LISTING_SLACK),
        });
        return { ...page, keys: page.keys.flatMap((key) => this.#entry(prefix, key)) };
      },
      (group) => this.#verifiedRun(workflowId, group, status),
    );
    const items = found.slice(0, limit);
    const last = items.at(-1);
    return {
      items,
      nextCursor: found.length > limit && last ? encodeCursor([last.createdAt, last.runId]) : null,
    };
  }

  async listWorkflows(options: ListStepsOptions): Promise<Page<string>> {
    const limit = pageSize(options.limit);
    const after = options.cursor ? workflowCursor(options.cursor) : null;
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
          return workflowId === null ? [] : [{ order: key, workflowId }];
        });
        return { ...page, keys: ids };
      },
      async ([marker]) =>
        (await this.#hasRuns(marker?.workflowId as string)) ? marker?.workflowId : null,
    );
    const items = found.slice(0, limit) as string[];
    const last = items.at(-1);
    return { items, nextCursor: found.length > limit && last ? encodeCursor(last) : null };
  }

  /**
   * Walks a listing in order, grouping consecutive items of one `order`, and
   * checks groups (several at once) until `wanted` pass. A group at the end of
   * a page is held back until the next page shows whether it continues.
   */
  async #collect<T extends { order: string }, R>(
    wanted: number,
    list: (
      token: string | null,
      wanted: number,
    ) => Promise<{ keys: T[]; continuationToken: string | null }>,
    check: (group: T[]) => Promise<R | null | undefined>,
  ): Promise<R[]> {
    const found: R[] = [];
    const ready: T[][] = [];
    let open: T[] | null = null;
    let token: string | null = null;
    let exhausted = false;
    while (found.length < wanted) {
      if (ready.length === 0) {
        if (exhausted) break;
        const page = await list(token, wanted - found.length);
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
      const batch = ready.splice(0, wanted - found.length);
      for (const result of await mapLimited(batch, this.#concurrency, check)) {
        if (result !== null && result !== undefined) found.push(result);
      }
    }
    return found;
  }

  #entry(prefix: string, key: string): IndexEntry[] {
    const entry = this.#layout.entryOf(prefix, key);
    return entry ? [entry] : [];
  }

  /** The run a group of entries stands for, if they are true of it; deletes entries that never will be again. */
  async #verifiedRun(
    workflowId: string,
    group: IndexEntry[],
    status: RunStatus | undefined,
  ): Promise<RunMetadata | null> {
    const first = group[0] as IndexEntry;
    const keys = this.#layout.run(workflowId, first.runId);
    const state = await this.#states.read(keys);
    if (!state || state.run.createdAt !== first.createdAt) return null;
    const current = group.filter((entry) => entry.incarnation === state.incarnation);
    if (current.length === 0) return null;
    if (status !== undefined && state.run.status !== status) {
      // Entries for steps up to the head, whose status differs: a later step
      // left that status for good, and appends never rewrite steps.
      const obsolete = current.filter(
        (entry) => entry.step !== null && entry.step <= state.run.headStep,
      );
      // Housekeeping only: a listing does not fail over it.
      await this.#bucket.deleteAll(obsolete.map((entry) => entry.key)).catch(() => {});
      return null;
    }
    return structuredClone(state.run);
  }

  /** Whether a workflow has a run that exists: an all-runs entry of a live incarnation. */
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
        const found = await this.#states.document(this.#layout.run(workflowId, first.runId));
        const live =
          found &&
          !found.document.deleting &&
          group.some((entry) => entry.incarnation === found.document.incarnation);
        return live ? true : null;
      },
    );
    return found.length > 0;
  }
}

function runCursor(cursor: string): { createdAt: string; runId: string } {
  const position = decodeCursor(cursor);
  if (
    !Array.isArray(position) ||
    position.length !== 2 ||
    typeof position[0] !== "string" ||
    typeof position[1] !== "string"
  ) {
    throw new TypeError(`Not a cursor returned by listRuns: ${JSON.stringify(cursor)}`);
  }
  return { createdAt: position[0], runId: position[1] };
}

function workflowCursor(cursor: string): string {
  const position = decodeCursor(cursor);
  if (typeof position !== "string") {
    throw new TypeError(`Not a cursor returned by listWorkflows: ${JSON.stringify(cursor)}`);
  }
  return position;
}
