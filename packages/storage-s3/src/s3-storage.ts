import { randomBytes } from "node:crypto";
import {
  assertValidId,
  CorruptRecordError,
  InvalidCursorError,
  type ListRunsOptions,
  type ListStepsOptions,
  type Page,
  RUN_STATUSES,
  RunExistsError,
  type RunMetadata,
  RunNotFoundError,
  type RunPage,
  type RunStatus,
  StepConflictError,
  type StepRecord,
  type StorageCapabilities,
  StorageClosedError,
  type WorkflowStorage,
} from "@wf/core";
import {
  advanceRunMetadata,
  checkListOptions,
  decodeCursor,
  encodeCursor,
  isStepPosition,
  stepRecordJson,
} from "@wf/core/storage";
import { Bucket } from "./bucket.js";
import { mapLimited } from "./concurrency.js";
import {
  incarnationOf,
  isFence,
  type RunDocument,
  runDocument,
  stepMetadata,
  WRITE_TOKEN,
} from "./documents.js";
import { KeyLayout, MAX_STEP, type RunKeys } from "./key-layout.js";
import {
  optionsFromUrl,
  type ResolvedOptions,
  resolveOptions,
  type S3StorageOptions,
} from "./options.js";
import { RunDeletion } from "./run-deletion.js";
import { RunIndex } from "./run-index.js";
import { DOCUMENT_REFRESH, firstStep, type RunState, RunStates } from "./run-state.js";

/** Names the store in errors. */
const STORAGE_NAME = "S3Storage";
/** Attempts at advancing a run document that other writers keep changing, after our step is in. */
const DOCUMENT_ATTEMPTS = 5;

/**
 * The journal in an S3 bucket (AWS S3, MinIO, Cloudflare R2, or any server
 * with S3's conditional writes). One object per step, one run document per
 * run, and indexes for listing; see key-layout.ts for where things live.
 *
 * An append is one request: PutObject of step n only if absent
 * (`If-None-Match: *`), the commit point. Of two writers racing for step n
 * exactly one creates the object; the other gets StepConflictError having
 * written nothing. The run document (only if unchanged, `If-Match`) is
 * rewritten only when the status changes (the status indexes move then too)
 * or when it has fallen DOCUMENT_REFRESH steps behind; readers search past it
 * for the head (run-state.ts), so it may lag without anything being lost.
 *
 * createRun writes the first step and the index entries under a fresh
 * incarnation, then the run document only if absent: that put is the commit
 * point, and until it lands nothing of the run is visible. deleteRun marks the
 * document as deleting (the run is gone from then on), fences the run above
 * its head so that no append lands after it, removes steps and entries, then
 * the document (run-deletion.ts); calling it again finishes an interrupted one.
 *
 * Every method applies core's id rule first, and every record read back goes
 * through core's record checks, naming the `s3://` key of a damaged one.
 */
export class S3Storage implements WorkflowStorage {
  readonly capabilities: StorageCapabilities = { persistent: true, retention: false };
  readonly #options: ResolvedOptions;
  readonly #bucket: Bucket;
  readonly #layout: KeyLayout;
  readonly #states: RunStates;
  readonly #index: RunIndex;
  readonly #deletion: RunDeletion;
  #requests = 0;
  #closed = false;

  constructor(options: S3StorageOptions) {
    this.#options = resolveOptions(options);
    const { client, bucket, prefix, concurrency, timeout } = this.#options;
    this.#bucket = new Bucket({
      client,
      name: bucket,
      storageName: STORAGE_NAME,
      timeout,
      countRequest: () => {
        this.#requests += 1;
      },
    });
    this.#layout = new KeyLayout(prefix);
    this.#states = new RunStates(this.#bucket, this.#layout);
    this.#index = new RunIndex(this.#bucket, this.#layout, this.#states, concurrency);
    this.#deletion = new RunDeletion(this.#bucket, this.#layout, this.#states, this.#index);
  }

  /**
   * A store on the bucket and prefix `url` names,
   * `s3://bucket/prefix?region=…&endpoint=…&forcePathStyle=…` (the parameters
   * configure the client the store creates; with `endpoint`, path-style
   * requests are the default). `options` are the other options (`timeout`,
   * `clientConfig` with credentials, …); one the URL already sets is refused.
   */
  static fromUrl(url: string, options: Omit<S3StorageOptions, "bucket"> = {}): S3Storage {
    return new S3Storage(optionsFromUrl(url, options));
  }

  /** HTTP requests this store has sent to S3, retries included: for monitoring and benchmarks. */
  get requestsSent(): number {
    return this.#requests;
  }

  async createRun(run: RunMetadata, first: StepRecord): Promise<void> {
    this.#ready();
    const keys = this.#keys(run.workflowId, run.runId);
    if (first.step !== run.headStep) {
      throw new TypeError(`first.step (${first.step}) must equal run.headStep (${run.headStep})`);
    }
    checkStepNumber(first.step);
    checkStatus(run.status);
    const incarnation = randomBytes(8).toString("hex");
    const stepKey = this.#layout.step(keys, incarnation, first.step);
    const entries = this.#index.entriesOfNewRun(keys, run, incarnation);
    for (const key of [stepKey, ...entries.keys(), this.#layout.marker(run.workflowId)]) {
      this.#layout.assertFits(key, keys);
    }
    const document = runDocument(run, incarnation);
    const firstBody = JSON.stringify(first);

    // Nothing below is visible until the run document exists: readers find a
    // run through it, listings check entries against it.
    await Promise.all([
      this.#bucket.put(stepKey, firstBody, { metadata: stepMetadata(first) }),
      ...[...entries].map(([key, body]) => this.#bucket.put(key, body)),
    ]);
    await this.#index.markWorkflow(run.workflowId);
    const committed = await this.#bucket.put(keys.document, document, { ifAbsent: true });
    if (committed.written) {
      const stored = (JSON.parse(document) as RunDocument).run;
      this.#states.remember(keys, { etag: committed.etag, incarnation, stored, run: stored });
      return;
    }
    const existing = await this.#bucket.get(keys.document);
    // Our own put, answered 412 on a retry after its first response was lost.
    if (existing && incarnationOf(existing.body) === incarnation) return;
    // Ours never became visible; remove it. Keys under a fresh incarnation are no one else's.
    await this.#bucket.deleteAll([stepKey, ...entries.keys()]).catch(() => {});
    throw new RunExistsError(run.workflowId, run.runId);
  }

  async appendStep(record: StepRecord): Promise<void> {
    this.#ready();
    const keys = this.#keys(record.workflowId, record.runId);
    const step = record.step;
    checkStepNumber(step);
    checkStatus(record.status);
    // Serialised now: nothing the caller changes later reaches the store.
    const body = stepRecordJson(record);
    const state = await this.#stateFor(keys, step - 1);
    if (state.run.headStep !== step - 1) {
      throw new StepConflictError(record.workflowId, record.runId, step, state.run.headStep);
    }
    const { incarnation } = state;
    const leaving = state.run.status !== record.status ? state.run.status : null;
    // The document is rewritten only when it matters: see DOCUMENT_REFRESH.
    const refresh = leaving !== null || step - state.stored.headStep >= DOCUMENT_REFRESH;
    // Before the step: a listing by status may show a stale entry, never miss a run.
    const entered =
      leaving &&
      (await this.#index.enterStatus(keys, state.stored, incarnation, record.status, step));
    const token = randomBytes(6).toString("hex");
    const stepKey = this.#layout.step(keys, incarnation, step);
    const put = await this.#bucket.put(stepKey, body, {
      ifAbsent: true,
      metadata: { ...stepMetadata(record), [WRITE_TOKEN]: token },
    });
    if (!put.written) {
      const taken = await this.#bucket.head(stepKey);
      if (taken?.metadata[WRITE_TOKEN] !== token) {
        this.#states.forget(keys, state);
        // A fence (or nothing, mid-deletion) where the step should go: the run was deleted.
        if (taken === null || isFence(taken.metadata)) {
          await this.#refuseDeleted(keys, state, entered || null);
        }
        throw new StepConflictError(record.workflowId, record.runId, step);
      }
    }
    // The step is in: the append has happened. What follows, when due, brings
    // the run document and the status index up to it; if it cannot, readers
    // probe past the document and a later append catches it up.
    if (!refresh) {
      this.#states.remember(keys, { ...state, run: advanceRunMetadata(state.run, record) });
      return;
    }
    await Promise.all([
      this.#advanceDocument(keys, state, record),
      leaving &&
        this.#index.leaveStatus(keys, state.stored, incarnation, leaving, step).catch(() => {}),
    ]);
  }

  async getRun(workflowId: string, runId: string): Promise<RunMetadata> {
    this.#ready();
    const keys = this.#keys(workflowId, runId);
    const state = await this.#states.read(keys);
    if (!state) throw new RunNotFoundError(workflowId, runId);
    return structuredClone(state.run);
  }

  async getStep(workflowId: string, runId: string, step: number): Promise<StepRecord> {
    this.#ready();
    const keys = this.#keys(workflowId, runId);
    return this.#states.requireStep(keys, await this.#states.live(keys), step);
  }

  async getLatestStep(workflowId: string, runId: string): Promise<StepRecord> {
    this.#ready();
    const keys = this.#keys(workflowId, runId);
    const latest = await this.#states.latest(keys);
    if (!latest) throw new RunNotFoundError(workflowId, runId);
    return latest.record;
  }

  async listSteps(
    workflowId: string,
    runId: string,
    options: ListStepsOptions = {},
  ): Promise<Page<StepRecord>> {
    this.#ready();
    const keys = this.#keys(workflowId, runId);
    const { limit, cursor } = checkListOptions(options);
    const after = cursor === null ? null : stepCursor(cursor);
    const { document } = await this.#states.live(keys);
    const { incarnation, run } = document;
    const prefix = this.#layout.stepsPrefix(keys, incarnation);
    const page = await this.#bucket.list({
      prefix,
      startAfter: after === null ? undefined : this.#layout.step(keys, incarnation, after),
      maxKeys: limit,
    });
    const listed = page.keys.flatMap((key) => {
      const step = this.#layout.stepOf(prefix, key);
      return step === null || step < firstStep(run) ? [] : [step];
    });
    // Steps are contiguous from the first up to the head, so the page is
    // every step from `from` to the last one listed, each read after the
    // listing (a step the listing missed while racing appends is there by
    // then); one that is absent was removed. So is a step up to the
    // document's head past the end of the listing (it was written before the
    // document we read).
    const from = Math.max(firstStep(run), after === null ? 0 : after + 1);
    const through = listed.at(-1) ?? from - 1;
    if (page.continuationToken === null && through < run.headStep) {
      await this.#states.damagedUnlessGone(
        keys,
        incarnation,
        this.#missing(keys, incarnation, through + 1),
      );
    }
    const steps = Array.from({ length: Math.min(limit, through - from + 1) }, (_, i) => from + i);
    const records = await mapLimited(steps, this.#options.concurrency, async (step) => {
      const record = await this.#states.step(keys, incarnation, step);
      // Removed (a damaged journal, or deleted since the listing), or a fence where a step was.
      return (
        record ??
        this.#states.damagedUnlessGone(keys, incarnation, this.#missing(keys, incarnation, step))
      );
    });
    const last = records.at(-1);
    const more = page.continuationToken !== null || (last !== undefined && last.step < through);
    return { items: records, nextCursor: more && last ? encodeCursor(last.step) : null };
  }

  async listRuns(workflowId: string, options: ListRunsOptions = {}): Promise<RunPage> {
    this.#ready();
    assertValidId(workflowId, "workflowId");
    return this.#index.listRuns(workflowId, options);
  }

  async listWorkflows(options: ListStepsOptions = {}): Promise<Page<string>> {
    this.#ready();
    return this.#index.listWorkflows(options);
  }

  async deleteRun(workflowId: string, runId: string): Promise<void> {
    this.#ready();
    await this.#deletion.delete(this.#keys(workflowId, runId));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#options.ownsClient) this.#options.client.destroy();
  }

  #ready(): void {
    if (this.#closed) throw new StorageClosedError(STORAGE_NAME);
  }

  /** The run's keys, after core's id rule: every method refuses the same ids on every store. */
  #keys(workflowId: unknown, runId: unknown): RunKeys {
    assertValidId(workflowId, "workflowId");
    assertValidId(runId, "runId");
    return this.#layout.run(workflowId, runId);
  }

  #missing(keys: RunKeys, incarnation: string, step: number): CorruptRecordError {
    return new CorruptRecordError(
      this.#bucket.location(this.#layout.step(keys, incarnation, step)),
      "the step is missing below the run's head",
    );
  }

  /**
   * An append found a fence (or nothing) where its step should go: the run
   * was deleted (RUN_NOT_FOUND), or deleted and created again under a new
   * incarnation (the caller's STEP_CONFLICT). For a run that is gone, removes
   * the status entry the append made. The dead incarnation's keys are left as
   * they are: deleteRun replaced each step by a fence, and removing one would
   * free a key another stale writer could then create (see run-deletion.ts).
   */
  async #refuseDeleted(keys: RunKeys, state: RunState, entered: string | null): Promise<void> {
    const now = await this.#states.inspect(keys);
    const deleted = now === null || ("document" in now && now.document.deleting === true);
    const current = now && ("damage" in now ? now.incarnation : now.document.incarnation);
    if (!deleted && current === state.incarnation) return;
    if (entered) await this.#bucket.delete(entered).catch(() => {});
    if (deleted) throw new RunNotFoundError(keys.workflowId, keys.runId);
  }

  /**
   * The state an append of the step after `expectedHead` starts from: the one
   * this store remembers if it expects that head, else read afresh (so a stale
   * memory never turns into a false conflict).
   */
  async #stateFor(keys: RunKeys, expectedHead: number): Promise<RunState> {
    const cached = this.#states.cached(keys);
    if (cached && cached.run.headStep === expectedHead) return cached;
    const state = await this.#states.read(keys);
    if (!state) throw new RunNotFoundError(keys.workflowId, keys.runId);
    return state;
  }

  /**
   * Sets the run document's head to `record`, only if the document is
   * unchanged since `state`; on a lost race, reads it again and retries while
   * it is still behind. If the run was deleted (or replaced by a new run with
   * the same id) meanwhile, the step went into a dead incarnation, where the
   * delete replaces it by a fence: report the conflict.
   */
  async #advanceDocument(keys: RunKeys, state: RunState, record: StepRecord): Promise<void> {
    let { etag, stored } = state;
    try {
      for (let attempt = 0; attempt < DOCUMENT_ATTEMPTS; attempt++) {
        const next = advanceRunMetadata(stored, record);
        const put = await this.#bucket.put(keys.document, runDocument(next, state.incarnation), {
          ifEtag: etag,
        });
        if (put.written) {
          this.#states.remember(keys, {
            etag: put.etag,
            incarnation: state.incarnation,
            stored: next,
            run: next,
          });
          return;
        }
        const found = await this.#states.document(keys);
        if (!found || found.document.incarnation !== state.incarnation || found.document.deleting) {
          this.#states.forget(keys);
          if (!found || found.document.deleting)
            throw new RunNotFoundError(keys.workflowId, keys.runId);
          throw new StepConflictError(keys.workflowId, keys.runId, record.step);
        }
        if (found.document.run.headStep >= record.step) break; // someone caught it up for us
        ({ etag } = found);
        stored = found.document.run;
      }
    } catch (error) {
      if (error instanceof RunNotFoundError || error instanceof StepConflictError) throw error;
      // The step is committed; a document left behind is what readers probe past.
    }
    this.#states.forget(keys);
  }
}

function checkStepNumber(step: unknown): asserts step is number {
  if (!Number.isSafeInteger(step) || (step as number) < 0 || (step as number) > MAX_STEP) {
    throw new RangeError(`step must be an integer from 0 to ${MAX_STEP}, got ${String(step)}`);
  }
}

/** Statuses name index prefixes, so only the four there are may reach a key. */
function checkStatus(status: unknown): void {
  if (!RUN_STATUSES.includes(status as RunStatus)) {
    throw new TypeError(
      `status must be one of ${RUN_STATUSES.join(", ")}, got ${JSON.stringify(status)}`,
    );
  }
}

/** A listSteps cursor's position: the last step of a page; null to start from the first. */
function stepCursor(cursor: string): number | null {
  const position = decodeCursor(cursor, isStepPosition);
  if (position > MAX_STEP) throw new InvalidCursorError(cursor);
  return position < 0 ? null : position;
}
