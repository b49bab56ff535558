/**
 * Reading a run's state: its document, then its head. The step objects are
 * the truth: an append writes step n+1 (only if absent), the commit point,
 * and rewrites the run document only when the status changes or the document
 * has fallen DOCUMENT_REFRESH steps behind (see s3-storage.ts). So the
 * document is normally up to DOCUMENT_REFRESH - 1 steps behind, and further
 * only if writers died just before a refresh. Readers therefore probe for
 * steps past the document's head with HEAD requests, which carry each step's
 * status and time in user metadata, and report the run as of its last step.
 * Steps of one incarnation are contiguous (step n+1 is only ever created
 * while step n exists), so the probe can search: one round trip checks the
 * next step and the ends of the window, a binary search narrows the rest.
 *
 * A fence (the object deleteRun leaves where the next step would go, see
 * run-deletion.ts) is not a step: readers take it for an absent step. And
 * since steps are contiguous, a step missing below one that exists, or below
 * the document's head, is damage (CORRUPT_RECORD), unless the run was deleted
 * meanwhile, which a second look at the document tells.
 */
import {
  CorruptRecordError,
  type RunMetadata,
  RunNotFoundError,
  type RunStatus,
  StepNotFoundError,
  type StepRecord,
} from "@wf/core";
import type { Bucket } from "./bucket.js";
import {
  incarnationOf,
  isFence,
  type RunDocument,
  readRunDocument,
  readStepMetadata,
  readStepRecord,
} from "./documents.js";
import { type KeyLayout, MAX_STEP, type RunKeys } from "./key-layout.js";

/**
 * Appends rewrite the run document at least every this many steps, so that a
 * reader's search for the head past the document's head covers a window of
 * this size (about log2 of it HEAD requests), whatever the run's length. An
 * append in between is a single request. Larger saves a little more on
 * appends and costs readers more; 16 keeps a refresh to 1 in 16 appends while
 * the search stays at a handful of HEADs in four round trips.
 */
export const DOCUMENT_REFRESH = 16;
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

export interface ReadDocument {
  document: RunDocument;
  etag: string;
}

/** A run document that does not pass the checks. */
export interface DamagedDocument {
  damage: CorruptRecordError;
  /** The incarnation it names, if that much can be read. */
  incarnation: string | null;
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

  /** The run document, checked, including one marked as being deleted; null if there is none. */
  async document(keys: RunKeys): Promise<ReadDocument | null> {
    const stored = await this.#bucket.get(keys.document);
    if (!stored) return null;
    return {
      document: readRunDocument(stored.body, this.#bucket.location(keys.document), keys),
      etag: stored.etag,
    };
  }

  /** The run document if the run exists (not being deleted); RUN_NOT_FOUND otherwise. */
  async live(keys: RunKeys): Promise<ReadDocument> {
    const found = await this.document(keys);
    if (!found || found.document.deleting) throw new RunNotFoundError(keys.workflowId, keys.runId);
    return found;
  }

  /**
   * The run document, or what can be known of one that is damaged: the
   * error, the incarnation if it can still be read, and the ETag. Null if
   * there is none.
   */
  async inspect(keys: RunKeys): Promise<ReadDocument | DamagedDocument | null> {
    const stored = await this.#bucket.get(keys.document);
    if (!stored) return null;
    const location = this.#bucket.location(keys.document);
    try {
      return { document: readRunDocument(stored.body, location, keys), etag: stored.etag };
    } catch (error) {
      if (!(error instanceof CorruptRecordError)) throw error;
      return { damage: error, incarnation: incarnationOf(stored.body), etag: stored.etag };
    }
  }

  /**
   * The run as of its last step; null if it does not exist (or is being
   * deleted). `found` is its document if the caller has just read it.
   */
  async read(keys: RunKeys, found?: ReadDocument | null): Promise<RunState | null> {
    if (found === undefined) found = await this.document(keys);
    if (!found || found.document.deleting) return null;
    const { document, etag } = found;
    const head = await this.#probe(keys, document.incarnation, this.#start(keys, found));
    return this.remember(keys, {
      etag,
      incarnation: document.incarnation,
      stored: document.run,
      run: { ...document.run, ...head },
    });
  }

  /**
   * The record at the run's head, and the run's state: the document, the
   * probe past it, then the head step.
   */
  async latest(keys: RunKeys): Promise<{ state: RunState; record: StepRecord } | null> {
    const found = await this.document(keys);
    if (!found || found.document.deleting) return null;
    const { document, etag } = found;
    const { incarnation } = document;
    const head = await this.#probe(keys, incarnation, this.#start(keys, found));
    const latest = await this.step(keys, incarnation, head.headStep);
    if (!latest) {
      // Deleted between our reads, or a document pointing at nothing.
      const key = this.#layout.step(keys, incarnation, head.headStep);
      return this.damagedUnlessGone(
        keys,
        incarnation,
        new CorruptRecordError(this.#bucket.location(key), "the run's head step is missing"),
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

  /** A stored step, checked to be the one asked for; null if absent (a fence counts as absent). */
  async step(keys: RunKeys, incarnation: string, step: number): Promise<StepRecord | null> {
    const key = this.#layout.step(keys, incarnation, step);
    const stored = await this.#bucket.get(key);
    if (!stored || isFence(stored.metadata)) return null;
    return readStepRecord(stored.body, this.#bucket.location(key), { ...keys, step });
  }

  /**
   * Step `step` of a run whose document is `found`: the record, or
   * STEP_NOT_FOUND outside the steps the run stores, CORRUPT_RECORD if it is
   * missing below the head, RUN_NOT_FOUND if the run was deleted meanwhile.
   */
  async requireStep(keys: RunKeys, found: ReadDocument, step: number): Promise<StepRecord> {
    const { incarnation, run } = found.document;
    if (!Number.isSafeInteger(step) || step < firstStep(run) || step > MAX_STEP) {
      throw new StepNotFoundError(keys.workflowId, keys.runId, step);
    }
    const record = await this.step(keys, incarnation, step);
    if (record) return record;
    // Below the head if the document says so, or if a later step exists; that
    // later step may have been appended, with this one, since our read: look again.
    const key = this.#layout.step(keys, incarnation, step);
    let later = step <= run.headStep;
    if (!later) {
      const next = await this.#bucket.list({
        prefix: this.#layout.stepsPrefix(keys, incarnation),
        startAfter: key,
        maxKeys: 1,
      });
      if (next.keys.length > 0) {
        const again = await this.step(keys, incarnation, step);
        if (again) return again;
        later = true;
      }
    }
    const missing = new CorruptRecordError(
      this.#bucket.location(key),
      "the step is missing below the run's head",
    );
    return this.damagedUnlessGone(
      keys,
      incarnation,
      later ? missing : new StepNotFoundError(keys.workflowId, keys.runId, step),
    );
  }

  /**
   * Throws RUN_NOT_FOUND if the run is gone or another incarnation took its
   * id since we read it (what a missing step means while a delete runs),
   * else `error`.
   */
  async damagedUnlessGone(keys: RunKeys, incarnation: string, error: Error): Promise<never> {
    const now = await this.document(keys);
    if (!now || now.document.deleting || now.document.incarnation !== incarnation) {
      this.forget(keys);
      throw new RunNotFoundError(keys.workflowId, keys.runId);
    }
    throw error;
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

  /**
   * Where a probe starts: the document's head, or the head this store last
   * saw if the document has not changed since (same ETag, so the same
   * incarnation and no deletion begun: those steps still exist). That head is
   * likely still the head, so the probe checks the next step alone first.
   */
  #start(keys: RunKeys, found: ReadDocument): { known: Head; likelyCurrent: boolean } {
    const cached = this.#cache.get(keys.document);
    const { document, etag } = found;
    if (
      cached &&
      cached.etag === etag &&
      cached.incarnation === document.incarnation &&
      cached.run.headStep >= document.run.headStep
    ) {
      return { known: headOf(cached.run), likelyCurrent: true };
    }
    return { known: headOf(document.run), likelyCurrent: false };
  }

  /**
   * The last step of the run, given that `known` exists: the step after it
   * and the middle and end of the DOCUMENT_REFRESH window at once (the first
   * alone settles a document that is current); if the window's end exists
   * too (writers died before refreshing), windows of doubling size; then a
   * binary search between the last step seen and the first one absent.
   */
  async #probe(
    keys: RunKeys,
    incarnation: string,
    { known, likelyCurrent }: { known: Head; likelyCurrent: boolean },
  ): Promise<Head> {
    const at = (step: number) => this.#stepHead(keys, incarnation, step);
    let present: Head = known;
    if (likelyCurrent) {
      const next = await at(known.headStep + 1);
      if (!next) return known;
      present = next;
    }
    let absent: number;
    let width = DOCUMENT_REFRESH;
    for (;;) {
      const from = present.headStep;
      if (from - known.headStep > MAX_PROBES) {
        throw new CorruptRecordError(
          this.#bucket.location(keys.document),
          `more than ${MAX_PROBES} steps exist past the head the run document records`,
        );
      }
      const found = await Promise.all([at(from + 1), at(from + width / 2), at(from + width)]);
      let next = found[0];
      const [, middle, end] = found;
      if (!next && (middle || end)) {
        // A later step exists: the next one did too, unless appends raced our
        // requests (look again) or it was removed.
        next = await at(from + 1);
        if (!next) {
          const key = this.#layout.step(keys, incarnation, from + 1);
          await this.damagedUnlessGone(
            keys,
            incarnation,
            new CorruptRecordError(
              this.#bucket.location(key),
              "the step is missing below later steps of the run",
            ),
          );
        }
      }
      if (!next) return present;
      if (end) {
        present = end;
        width *= 2;
        continue;
      }
      absent = from + width;
      present = middle ?? next;
      if (!middle) absent = from + width / 2;
      break;
    }
    while (absent - present.headStep > 1) {
      const step = Math.floor((present.headStep + absent) / 2);
      const found = await at(step);
      if (found) present = found;
      else absent = step;
    }
    return present;
  }

  /** What step `step` says of the head, one HEAD request; null if it does not exist (or is a fence). */
  async #stepHead(keys: RunKeys, incarnation: string, step: number): Promise<Head | null> {
    const key = this.#layout.step(keys, incarnation, step);
    const found = await this.#bucket.head(key);
    if (!found || isFence(found.metadata)) return null;
    const said = readStepMetadata(found.metadata, this.#bucket.location(key));
    if (said) return { headStep: step, status: said.status, updatedAt: said.createdAt };
    // A step written without our metadata (by hand, or another tool): read it.
    const record = await this.step(keys, incarnation, step);
    return record && { headStep: step, status: record.status, updatedAt: record.createdAt };
  }
}

/** The first step a run stores: 0, or the step it was forked from. */
export function firstStep(run: RunMetadata): number {
  return run.forkedFrom?.step ?? 0;
}

function headOf(run: RunMetadata): Head {
  return { headStep: run.headStep, status: run.status, updatedAt: run.updatedAt };
}
