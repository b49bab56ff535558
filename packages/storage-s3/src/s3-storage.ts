import { randomBytes } from "node:crypto";
import {
  advanceRunMetadata,
  decodeCursor,
  encodeCursor,
  type ListRunsOptions,
  type ListStepsOptions,
  type Page,
  pageSize,
  RUN_STATUSES,
  RunExistsError,
  type RunMetadata,
  RunNotFoundError,
  type RunStatus,
  StepConflictError,
  StepNotFoundError,
  type StepRecord,
  type StorageCapabilities,
  StorageClosedError,
  type WorkflowStorage,
} from "@wf/core";
import { Bucket } from "./bucket.js";
import { mapLimited } from "./concurrency.js";
import {
  type RunDocument,
  runDocument,
  STEP_CREATED_AT,
  STEP_STATUS,
  WRITE_TOKEN,
} from "./documents.js";
import { KeyLayout, MAX_STEP, type RunKeys } from "./key-layout.js";
import { type ResolvedOptions, resolveOptions, type S3StorageOptions } from "./options.js";
import { RunIndex } from "./run-index.js";
import { DOCUMENT_REFRESH, type RunState, RunStates } from "./run-state.js";

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
 * document as deleting (the run is gone from then on), removes steps and
 * entries, then the document; calling it again finishes an interrupted one.
 */
export class S3Storage implements WorkflowStorage {
  readonly capabilities: StorageCapabilities = { persistent: true, retention: false };
  readonly #options: ResolvedOptions;
  readonly #bucket: Bucket;
  readonly #layout: KeyLayout;
  readonly #states: RunStates;
  readonly #index: RunIndex;
  #requests = 0;
  #closed = false;

  constructor(options: S3StorageOptions) {
    this.#options = resolveOptions(options);
    const { client, bucket, prefix, concurrency } = this.#options;
    this.#bucket = new Bucket(client, bucket, STORAGE_NAME, () => {
      this.#requests += 1;
    });
    this.#layout = new KeyLayout(prefix);
    this.#states = new RunStates(this.#bucket, this.#layout);
    this.#index = new RunIndex(this.#bucket, this.#layout, this.#states, concurrency);
  }

  /** HTTP requests this store has sent to S3, retries included: for monitoring and benchmarks. */
  get requestsSent(): number {
    return this.#requests;
  }

  async createRun(run: RunMetadata, first: StepRecord): Promise<void> {
    this.#ready();
    if (first.step !== run.headStep) {
      throw new TypeError(`first.step (${first.step}) must equal run.headStep (${run.headStep})`);
    }
    const keys = this.#layout.run(run.workflowId, run.runId);
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
    const existing = await this.#states.document(keys);
    // Our own put, answered 412 on a retry after its first response was lost.
    if (existing?.document.incarnation === incarnation) return;
    // Ours never became visible; remove it. Keys under a fresh incarnation are no one else's.
    await this.#bucket.deleteAll([stepKey, ...entries.keys()]).catch(() => {});
    throw new RunExistsError(run.workflowId, run.runId);
  }

  async appendStep(record: StepRecord): Promise<void> {
    this.#ready();
    const keys = this.#layout.run(record.workflowId, record.runId);
    const step = record.step;
    checkStepNumber(step);
    checkStatus(record.status);
    // Serialised now: nothing the caller changes later reaches the store.
    const body = JSON.stringify(record);
    const state = await this.#stateFor(keys, step - 1);
    if (state.run.headStep !== step - 1) {
      throw new StepConflictError(record.workflowId, record.runId, step, state.run.headStep);
    }
    const { incarnation } = state;
    const leaving = state.run.status !== record.status ? state.run.status : null;
    // The document is rewritten only when it matters: see DOCUMENT_REFRESH.
    const refresh = leaving !== null || step - state.stored.headStep >= DOCUMENT_REFRESH;
    if (leaving) {
      // Before the step: a listing by status may show a stale entry, never miss a run.
      await this.#index.enterStatus(keys, state.stored, incarnation, record.status, step);
    }
    const token = randomBytes(6).toString("hex");
    const stepKey = this.#layout.step(keys, incarnation, step);
    const put = await this.#bucket.put(stepKey, body, {
      ifAbsent: true,
      metadata: { ...stepMetadata(record), [WRITE_TOKEN]: token },
    });
    if (!put.written && (await this.#bucket.head(stepKey))?.metadata[WRITE_TOKEN] !== token) {
      this.#states.forget(keys, state);
      throw new StepConflictError(record.workflowId, record.runId, step);
    }
    // The step is in: the append has happened. What follows, when due, brings
    // the run document and the status index up to it; if it cannot, readers
    // probe past the document and a later append catches it up.
    if (!refresh) {
      this.#states.remember(keys, { ...state, run: advanceRunMetadata(state.run, record) });
      return;
    }
    await Promise.all([
      this.#advanceDocument(keys, state, record, stepKey),
      leaving &&
        this.#index.leaveStatus(keys, state.stored, incarnation, leaving, step).catch(() => {}),
    ]);
  }

  async getRun(workflowId: string, runId: string): Promise<RunMetadata> {
    this.#ready();
    const keys = this.#layout.run(workflowId, runId);
    const state = await this.#states.read(keys);
    if (!state) throw new RunNotFoundError(workflowId, runId);
    return structuredClone(state.run);
  }

  async getStep(workflowId: string, runId: string, step: number): Promise<StepRecord> {
    this.#ready();
    const keys = this.#layout.run(workflowId, runId);
    const found = await this.#states.document(keys);
    if (!found || found.document.deleting) throw new RunNotFoundError(workflowId, runId);
    if (!Number.isSafeInteger(step) || step < 0 || step > MAX_STEP) {
      throw new StepNotFoundError(workflowId, runId, step);
    }
    const record = await this.#states.step(keys, found.document.incarnation, step);
    if (!record) throw new StepNotFoundError(workflowId, runId, step);
    return record;
  }

  async getLatestStep(workflowId: string, runId: string): Promise<StepRecord> {
    this.#ready();
    const keys = this.#layout.run(workflowId, runId);
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
    const limit = pageSize(options.limit);
    const keys = this.#layout.run(workflowId, runId);
    const after = options.cursor ? stepCursor(options.cursor) : null;
    const found = await this.#states.document(keys);
    if (!found || found.document.deleting) throw new RunNotFoundError(workflowId, runId);
    const { incarnation } = found.document;
    const prefix = this.#layout.stepsPrefix(keys, incarnation);
    const page = await this.#bucket.list({
      prefix,
      startAfter: after === null ? undefined : this.#layout.step(keys, incarnation, after),
      maxKeys: limit,
    });
    const steps = page.keys.flatMap((key) => {
      const step = this.#layout.stepOf(prefix, key);
      return step === null ? [] : [step];
    });
    const records = await mapLimited(steps, this.#options.concurrency, async (step) => {
      const record = await this.#states.step(keys, incarnation, step);
      if (!record) throw new RunNotFoundError(workflowId, runId); // deleted while we read it
      return record;
    });
    const last = records.at(-1);
    return {
      items: records,
      nextCursor: page.continuationToken !== null && last ? encodeCursor(last.step) : null,
    };
  }

  async listRuns(workflowId: string, options: ListRunsOptions = {}): Promise<Page<RunMetadata>> {
    this.#ready();
    if (options.status !== undefined) checkStatus(options.status);
    return this.#index.listRuns(workflowId, options);
  }

  async listWorkflows(options: ListStepsOptions = {}): Promise<Page<string>> {
    this.#ready();
    return this.#index.listWorkflows(options);
  }

  async deleteRun(workflowId: string, runId: string): Promise<void> {
    this.#ready();
    const keys = this.#layout.run(workflowId, runId);
    this.#states.forget(keys);
    let found = await this.#states.document(keys);
    for (let attempt = 0; found && !found.document.deleting; attempt++) {
      if (attempt === DOCUMENT_ATTEMPTS) {
        throw new StepConflictError(workflowId, runId, found.document.run.headStep + 1);
      }
      // From here on the run does not exist for anyone; a concurrent append's
      // document update fails on the changed ETag.
      const { document, etag } = found;
      const marked = await this.#bucket.put(
        keys.document,
        runDocument(document.run, document.incarnation, true),
        { ifEtag: etag },
      );
      found = marked.written
        ? { document: { ...document, deleting: true }, etag: marked.etag }
        : await this.#states.document(keys);
    }
    if (!found) throw new RunNotFoundError(workflowId, runId);
    await this.#finishDeletion(keys, found.document, found.etag);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#options.ownsClient) this.#options.client.destroy();
  }

  #ready(): void {
    if (this.#closed) throw new StorageClosedError(STORAGE_NAME);
  }

  /** Removes what a run marked as deleting stores, then its document (only if still that one). */
  async #finishDeletion(keys: RunKeys, document: RunDocument, etag: string): Promise<void> {
    const steps: string[] = [];
    const prefix = this.#layout.stepsPrefix(keys, document.incarnation);
    for await (const page of this.#bucket.keys(prefix)) {
      steps.push(...page);
    }
    await this.#bucket.deleteAll([...(await this.#index.entriesOf(keys, document)), ...steps]);
    await this.#bucket.delete(keys.document, etag);
    await this.#index.retireMarker(keys);
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
   * the same id) meanwhile, the step went into a dead incarnation: remove it
   * and report the conflict.
   */
  async #advanceDocument(
    keys: RunKeys,
    state: RunState,
    record: StepRecord,
    stepKey: string,
  ): Promise<void> {
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
          // The steps since the document's head went into a dead incarnation: remove them.
          const dead = [];
          for (let step = state.stored.headStep + 1; step < record.step; step++) {
            dead.push(this.#layout.step(keys, state.incarnation, step));
          }
          await this.#bucket.deleteAll([...dead, stepKey]).catch(() => {});
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

function stepMetadata(record: StepRecord): Record<string, string> {
  return {
    [STEP_STATUS]: String(record.status),
    [STEP_CREATED_AT]: encodeURIComponent(String(record.createdAt)),
  };
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

function stepCursor(cursor: string): number {
  const position = decodeCursor(cursor);
  if (
    !Number.isSafeInteger(position) ||
    (position as number) < 0 ||
    (position as number) > MAX_STEP
  ) {
    throw new TypeError(`Not a cursor returned by listSteps: ${JSON.stringify(cursor)}`);
  }
  return position as number;
}
