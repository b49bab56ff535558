/**
 * Reading a run's state: its document, then its head. The step objects are
 * the truth: an append writes step n+1 (only if absent) and then advances
 * the document (only if unchanged), so a writer that dies between the two
 * leaves the document one step (or, after several such deaths, a few steps)
 * behind. Readers therefore probe for steps past the document's head with
 * HEAD requests, which carry each step's status and time in user metadata,
 * and report the run as of its last step. The next append rewrites the
 * document from the head it was given, so the lag lasts until then.
 */
import { CorruptRecordError, type RunMetadata, type RunStatus, type StepRecord } from "@wf/core";
import type { Bucket } from "./bucket.js";
import {
  type RunDocument,
  readRunDocument,
  readStepRecord,
  STEP_CREATED_AT,
  STEP_STATUS,
} from "./documents.js";
import type { KeyLayout, RunKeys } from "./key-layout.js";

/** More steps past the document than this means something other than dead writers is at work. */
const MAX_PROBES = 10_000;
/** Runs whose state a store remembers for its next append. */
const CACHE_SIZE = 1_000;

export interface RunState {
  /** ETag of the run document, for the next conditional update. */
  etag: string;
  incarnation: string;
  /** The metadata as the document holds it. */
  stored: RunMetadata;
  /** The metadata as of the run's last step: `stored`, advanced past any step the document lags behind. */
  run: RunMetadata;
}

interface ReadDocument {
  document: RunDocument;
  etag: string;
}

interface Head {
  headStep: number;
  status: RunStatus;
  updatedAt: string;
}

export class RunStates {
  readonly #bucket: Bucket;
  readonly #layout: KeyLayout;
  /** The last state this store read or wrote per run (keyed by document key), so an append needs no read first. */
  readonly #cache = new Map<string, RunState>();

  constructor(bucket: Bucket, layout: KeyLayout) {
    this.#bucket = bucket;
    this.#layout = layout;
  }

  /** The run document, including one marked as being deleted; null if there is none. */
  async document(keys: RunKeys): Promise<ReadDocument | null> {
    const stored = await this.#bucket.get(keys.document);
    if (!stored) return null;
    return {
      document: readRunDocument(stored.body, this.#bucket.location(keys.document)),
      etag: stored.etag,
    };
  }

  /** The run as of its last step; null if it does not exist (or is being deleted). */
  async read(keys: RunKeys): Promise<RunState | null> {
    const found = await this.document(keys);
    if (!found || found.document.deleting) return null;
    const { document, etag } = found;
    const head = await this.#probe(
      keys,
      document.incarnation,
      document.run.headStep + 1,
      document.run,
    );
    return this.remember(keys, {
      etag,
      incarnation: document.incarnation,
      stored: document.run,
      run: { ...document.run, ...head },
    });
  }

  /**
   * The record at the run's head, and the run's state: the document, then
   * the head step and the next one at once, so a run whose document is
   * current costs three requests in two round trips.
   */
  async latest(keys: RunKeys): Promise<{ state: RunState; record: StepRecord } | null> {
    const found = await this.document(keys);
    if (!found || found.document.deleting) return null;
    const { document, etag } = found;
    const { incarnation } = document;
    const headStep = document.run.headStep;
    const [record, next] = await Promise.all([
      this.step(keys, incarnation, headStep),
      this.#bucket.head(this.#layout.step(keys, incarnation, headStep + 1)),
    ]);
    let latest = record;
    let head: Head = { headStep, status: document.run.status, updatedAt: document.run.updatedAt };
    const afterHead = next && (await this.#headOf(keys, incarnation, headStep + 1, next.metadata));
    if (afterHead) {
      head = await this.#probe(keys, incarnation, headStep + 2, afterHead);
      latest = await this.step(keys, incarnation, head.headStep);
    }
    if (!latest) {
      // Deleted between our reads, or a document pointing at nothing.
      if (!(await this.read(keys))) return null;
      throw new CorruptRecordError(
        this.#bucket.location(this.#layout.step(keys, incarnation, head.headStep)),
        "the run's head step is missing",
      );
    }
    const state = this.remember(keys, {
      etag,
      incarnation,
      stored: document.run,
      run: { ...document.run, ...head },
    });
    return { state, record: latest };
  }

  /** A stored step, or null. */
  async step(keys: RunKeys, incarnation: string, step: number): Promise<StepRecord | null> {
    const key = this.#layout.step(keys, incarnation, step);
    const stored = await this.#bucket.get(key);
    return stored ? readStepRecord(stored.body, this.#bucket.location(key)) : null;
  }

  cached(keys: RunKeys): RunState | undefined {
    return this.#cache.get(keys.document);
  }

  remember(keys: RunKeys, state: RunState): RunState {
    this.#cache.delete(keys.document);
    this.#cache.set(keys.document, state);
    if (this.#cache.size > CACHE_SIZE) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    return state;
  }

  /** Drops what this store remembers of a run, unless someone already replaced `state`. */
  forget(keys: RunKeys, state?: RunState): void {
    if (state === undefined || this.#cache.get(keys.document) === state) {
      this.#cache.delete(keys.document);
    }
  }

  /** Steps from `from` on that exist, one HEAD each, until one is absent. */
  async #probe(keys: RunKeys, incarnation: string, from: number, head: Head): Promise<Head> {
    let current = head;
    for (let step = from; step < from + MAX_PROBES; step++) {
      const found = await this.#bucket.head(this.#layout.step(keys, incarnation, step));
      const next = found && (await this.#headOf(keys, incarnation, step, found.metadata));
      if (!next) return current;
      current = next;
    }
    throw new CorruptRecordError(
      this.#bucket.location(keys.document),
      `more than ${MAX_PROBES} steps exist past the head the run document records`,
    );
  }

  /** What a probed step says of the head; null if it vanished meanwhile (the run is being deleted). */
  async #headOf(
    keys: RunKeys,
    incarnation: string,
    step: number,
    metadata: Record<string, string>,
  ): Promise<Head | null> {
    const status = metadata[STEP_STATUS];
    const createdAt = metadata[STEP_CREATED_AT];
    if (status !== undefined && createdAt !== undefined) {
      return {
        headStep: step,
        status: status as RunStatus,
        updatedAt: decodeURIComponent(createdAt),
      };
    }
    // A step written without our metadata (by hand, or another tool): read it.
    const record = await this.step(keys, incarnation, step);
    return record && { headStep: step, status: record.status, updatedAt: record.createdAt };
  }
}
