/**
 * deleteRun, and the fence that keeps a deleted run deleted.
 *
 * An append is one create-only PutObject of step n+1 (`If-None-Match: *`),
 * sent on the strength of what the writer remembers of the run, without
 * reading anything first (see s3-storage.ts). So removing a run's objects is
 * not enough: a writer in another process that holds the head h would then
 * find step h+1 absent and create it, and its appends would be acknowledged
 * into a run that no longer exists. deleteRun therefore first fences the run:
 *
 * 1. It marks the run document as deleting (`If-Match`): from then on the run
 *    does not exist for readers, and a writer's document update fails.
 * 2. It lists the incarnation's steps, whose last is the head H (or the
 *    document's head, if steps are missing), and writes a fence object at
 *    each of H+1 … H+FENCE_WINDOW, create-only and all at once. A fence
 *    carries the `wf-fence` metadata; readers take it for an absent step.
 *    Of a fence and a racing append of the same step, S3 lets exactly one
 *    create the object. If an append wins, that step is a real one (checked
 *    with a HEAD) and joins the steps to remove; if appends won every
 *    position, the next window above is fenced, and so on, at most
 *    FENCE_ATTEMPTS times (then STEP_CONFLICT: the run is already gone for
 *    readers, and deleteRun again finishes the job).
 * 3. It replaces every step by a fence (an unconditional PutObject over the
 *    step's key, so the key is never free), then removes the index entries,
 *    the document and, if this was the workflow's last run, its marker. The
 *    fences stay.
 *
 * Why that suffices: a writer appends step n+1 only while holding head n,
 * which it wrote or read, with a create-only write of n+1. Every key from
 * the run's first step up to the window above H always holds
 * an object (a step, then its fence; or a fence), so every such write gets
 * 412, whatever head the writer remembers: the running appender at H, and
 * also a writer that had lost the head to another writer long before the
 * delete. On 412 the writer looks with one HEAD, sees a fence and fails with
 * RUN_NOT_FOUND. Above the window no one can ever hold a head, since the
 * lowest fence can never be created. The common append stays one request:
 * only a failed one pays for the HEAD.
 *
 * Why not remove the steps: a removed step is a free key, and a writer that
 * remembers the head below it would create it and be acknowledged into a
 * run that no longer exists.
 *
 * What stays behind: one fence per step the run had, plus FENCE_WINDOW,
 * each a few hundred bytes under the dead incarnation
 * (`runs/{workflow}/{run}/{incarnation}/`); the state the steps held is
 * gone. The fences must stay for as long as some process may still remember
 * the run, which nothing can bound; a new run with the same id has a new
 * incarnation and never meets them. Deleting costs one PutObject per step.
 *
 * An interrupted delete is finished by calling deleteRun again: the document
 * says deleting, the fences already written are found (the highest listed
 * keys, recognised by their metadata) and kept, and the rest is removed.
 *
 * A damaged run (its document not JSON, or its metadata not a run's) is
 * deleted without being read: the incarnation comes from the document if it
 * still names one, else from the keys under the run's directory (every
 * incarnation not already fenced); its index entries are found by walking
 * the workflow's index for its run id, since their position depends on a
 * `createdAt` that cannot be trusted.
 */
import { RunNotFoundError, StepConflictError } from "@wf/core";
import type { Bucket } from "./bucket.js";
import { mapLimited } from "./concurrency.js";
import { FENCE, fenceBody, isFence, readRunDocument, runDocument } from "./documents.js";
import type { KeyLayout, RunKeys } from "./key-layout.js";
import type { RunIndex } from "./run-index.js";
import type { ReadDocument, RunStates } from "./run-state.js";

/** Fences written at once above the head: an appender would have to win all of them in one round trip. */
export const FENCE_WINDOW = 4;
/** Steps replaced by fences at once when a run is deleted. */
const FENCE_CONCURRENCY = 16;
/** Windows tried before giving up on a run that other writers keep advancing. */
const FENCE_ATTEMPTS = 5;
/** Attempts at marking a run document that other writers keep changing. */
const MARK_ATTEMPTS = 5;

export class RunDeletion {
  readonly #bucket: Bucket;
  readonly #layout: KeyLayout;
  readonly #states: RunStates;
  readonly #index: RunIndex;

  constructor(bucket: Bucket, layout: KeyLayout, states: RunStates, index: RunIndex) {
    this.#bucket = bucket;
    this.#layout = layout;
    this.#states = states;
    this.#index = index;
  }

  async delete(keys: RunKeys): Promise<void> {
    this.#states.forget(keys);
    const inspected = await this.#states.inspect(keys);
    if (!inspected) throw new RunNotFoundError(keys.workflowId, keys.runId);
    if ("damage" in inspected) {
      await this.#deleteDamaged(keys, inspected.incarnation);
      return;
    }
    const marked = await this.#mark(keys, inspected);
    const { document, etag } = marked;
    await this.#fenceAndRemoveSteps(keys, document.incarnation, document.run.headStep);
    await this.#bucket.deleteAll(await this.#index.entriesOf(keys, document));
    await this.#bucket.delete(keys.document, etag);
    await this.#index.retireMarker(keys);
  }

  /** Marks the run document as deleting, unless it already is; the document as marked. */
  async #mark(keys: RunKeys, found: ReadDocument): Promise<ReadDocument> {
    let current: ReadDocument | null = found;
    for (let attempt = 0; current && !current.document.deleting; attempt++) {
      if (attempt === MARK_ATTEMPTS) {
        throw new StepConflictError(keys.workflowId, keys.runId, current.document.run.headStep + 1);
      }
      const { document, etag } = current;
      const text = runDocument(document.run, document.incarnation, true);
      const marked = await this.#bucket.put(keys.document, text, { ifEtag: etag });
      current = marked.written
        ? {
            document: readRunDocument(text, this.#bucket.location(keys.document), keys),
            etag: marked.etag,
          }
        : await this.#states.document(keys);
    }
    if (!current) throw new RunNotFoundError(keys.workflowId, keys.runId);
    return current;
  }

  async #deleteDamaged(keys: RunKeys, incarnation: string | null): Promise<void> {
    const incarnations =
      incarnation === null ? await this.#unfencedIncarnations(keys) : [incarnation];
    for (const each of incarnations) await this.#fenceAndRemoveSteps(keys, each, -1);
    await this.#bucket.deleteAll(await this.#index.entriesOfRunId(keys));
    // Unconditionally: its ETag proves nothing about a document no one can read.
    await this.#bucket.delete(keys.document);
    await this.#index.retireMarker(keys);
  }

  /** The incarnations under the run's directory that are not fenced yet, for a document that names none. */
  async #unfencedIncarnations(keys: RunKeys): Promise<string[]> {
    const highest = new Map<string, number>();
    for await (const page of this.#bucket.keys(keys.dir)) {
      for (const key of page) {
        const found = this.#layout.incarnationStepOf(keys, key);
        if (found) highest.set(found.incarnation, found.step);
      }
    }
    const fenced = await Promise.all(
      [...highest].map(async ([incarnation, step]) => {
        const head = await this.#bucket.head(this.#layout.step(keys, incarnation, step));
        return head !== null && isFence(head.metadata);
      }),
    );
    return [...highest.keys()].filter((_, i) => !fenced[i]);
  }

  /**
   * Fences the incarnation above its last step (or finds the fences an
   * earlier attempt wrote), then replaces every step below by a fence.
   * `knownHead` is a step the run is known to have reached (the document's
   * head), in case the steps up to it are missing.
   */
  async #fenceAndRemoveSteps(keys: RunKeys, incarnation: string, knownHead: number): Promise<void> {
    const prefix = this.#layout.stepsPrefix(keys, incarnation);
    const listed: number[] = [];
    for await (const page of this.#bucket.keys(prefix)) {
      for (const key of page) {
        const step = this.#layout.stepOf(prefix, key);
        if (step !== null) listed.push(step);
      }
    }
    const fences = await this.#fencesAtTop(keys, incarnation, listed);
    if (fences.length === 0) {
      const taken = await this.#fence(keys, incarnation, Math.max(listed.at(-1) ?? -1, knownHead));
      listed.push(...taken);
    }
    const kept = new Set(fences);
    const steps = listed.filter((step) => !kept.has(step));
    await mapLimited(steps, FENCE_CONCURRENCY, (step) =>
      this.#bucket.put(
        this.#layout.step(keys, incarnation, step),
        fenceBody(keys, incarnation, step),
        { metadata: { [FENCE]: "deleted" } },
      ),
    );
  }

  /**
   * The fences at the top of the listed steps: the window is above every real
   * step, so the highest keys are fences exactly when an earlier attempt wrote
   * them (steps it had already replaced below are simply replaced again).
   */
  async #fencesAtTop(keys: RunKeys, incarnation: string, listed: number[]): Promise<number[]> {
    const fences: number[] = [];
    for (let at = listed.length - 1; at >= 0; at--) {
      const step = listed[at] as number;
      const head = await this.#bucket.head(this.#layout.step(keys, incarnation, step));
      if (head !== null && !isFence(head.metadata)) break;
      if (head !== null) fences.push(step);
    }
    return fences;
  }

  /**
   * Writes fences above `head` until one lands; returns the steps racing
   * appenders created in the windows meanwhile (real steps, to be removed).
   */
  async #fence(keys: RunKeys, incarnation: string, head: number): Promise<number[]> {
    const racing: number[] = [];
    let from = head + 1;
    for (let attempt = 0; attempt < FENCE_ATTEMPTS; attempt++, from += FENCE_WINDOW) {
      const window = Array.from({ length: FENCE_WINDOW }, (_, i) => from + i);
      const landed = await Promise.all(
        window.map(async (step) => {
          const key = this.#layout.step(keys, incarnation, step);
          const put = await this.#bucket.put(key, fenceBody(keys, incarnation, step), {
            ifAbsent: true,
            metadata: { [FENCE]: "deleted" },
          });
          if (put.written) return true;
          // Taken: by an appender (a real step), or by a deleteRun running beside us (a fence).
          const taken = await this.#bucket.head(key);
          if (taken !== null && !isFence(taken.metadata)) racing.push(step);
          return taken !== null && isFence(taken.metadata);
        }),
      );
      if (landed.some(Boolean)) return racing;
    }
    throw new StepConflictError(keys.workflowId, keys.runId, from);
  }
}
