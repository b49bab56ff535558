import { loadDefaultStorage } from "./default-storage.js";
import { type Edge, WorkflowDefinition } from "./definition.js";
import {
  ForkOfCancelStepError,
  IncompatibleStateError,
  NotSerializableError,
  StepAbortedError,
  UnexpectedInputError,
} from "./errors.js";
import { emitEvent, type WorkflowEvent } from "./events.js";
import { assertValidId, assertValidRequestId } from "./ids.js";
import {
  advanceRunMetadata,
  type InputRequest,
  JOURNAL_FORMAT_VERSION,
  type JsonValue,
  type RunMetadata,
  type RunStatus,
  type StepRecord,
} from "./journal.js";
import { assertJsonSerializable } from "./json-state.js";
import type { Node, SharedState } from "./node.js";
import { hasAnswer, type NodeOutcome, runNode } from "./node-runner.js";
import { checkRunMetadata, checkStepRecord } from "./record-check.js";
import { serialiseRecord } from "./record-json.js";
import {
  cancelRecord,
  errorFromRecord,
  firstRecord,
  forkRecord,
  nextRecord,
  type RecordOutcome,
  toRecordedError,
} from "./records.js";
import { newRunId } from "./run-id.js";
import { StepAbort } from "./step-abort.js";
import type { WorkflowStorage } from "./storage.js";
import { readHistory, readTimelineStep } from "./timeline.js";

/** Turns shared state that JSON cannot hold (Dates, Maps, …) into JSON and back. */
export interface StateCodec<Shared extends SharedState = SharedState> {
  encode(shared: Shared): JsonValue;
  decode(stored: JsonValue): Shared;
}

export interface WorkflowEngineOptions<Shared extends SharedState = SharedState> {
  /** Names the workflow in the journal. Must be the same in every process: never random. */
  workflowId: string;
  nodes: readonly Node<Shared>[];
  edges?: readonly Edge<Shared>[];
  /** Node a new run starts at. Default: the first of `nodes`. */
  start?: string;
  /** Shared state of a new run (step 0). Default `{}`. Ignored when resuming. */
  initialState?: Shared;
  /** Where the journal lives. Default: `FileSystemStorage` on `./logs` from `@wf/storage-fs`. */
  storage?: WorkflowStorage;
  /** Resume this run (or, with `fork`, fork it) instead of starting a new one. */
  runId?: string;
  /** Step of `runId` to continue from. Default: its head. */
  resumeFrom?: number;
  /** Start a new run from `runId` at `resumeFrom` (default its head), leaving the source unchanged. */
  fork?: boolean;
  /** Converts the shared state to and from JSON for values JSON cannot hold. */
  codec?: StateCodec<Shared>;
  /**
   * Id of the run this creates (a new run, or a fork) instead of a generated
   * one: RUN_EXISTS when the store has it already. For ids handed out before
   * the run exists, such as a queue's job or an idempotency key's run.
   */
  newRunId?: string;
  /**
   * Told what happens to the run: started, each step appended, waiting,
   * completed, failed, cancelled. Called after the journal write; an error
   * it throws is ignored, so a listener cannot fail a step.
   */
  onEvent?: (event: WorkflowEvent) => void;
}

/** How one `step()` runs. */
export interface StepOptions {
  /**
   * Gives the step up when it fires while the node runs: the node's context
   * signal fires too, nothing is journalled, and step() rejects with
   * STEP_ABORTED without waiting for the node to return.
   */
  signal?: AbortSignal;
  /** Retries of this node made before this step, for `context.attempt` (a worker's queue retries). Default 0. */
  attempt?: number;
  /**
   * Asked when the node failed, before its record is written: when it will
   * be retried, if that is scheduled (a worker's delayed job). The time is
   * journalled as the failed record's `error.retryAt`, so readers can tell a
   * run waiting for its retry from one that has stopped.
   */
  retryAt?: () => Date | null;
}

/**
 * What defines a workflow apart from where it is journalled and which run:
 * the options of `WorkflowEngine.create` without `storage`, `runId`,
 * `resumeFrom` and `fork`. Definition modules (`wf --definition`), the
 * inspector and workers take this object and add the rest per run.
 */
export type WorkflowSpec<Shared extends SharedState = SharedState> = Omit<
  WorkflowEngineOptions<Shared>,
  "storage" | "runId" | "resumeFrom" | "fork" | "newRunId" | "onEvent"
>;

/** What step() hands on to the next step: the answers collected so far for a waiting node. */
type Answers = Record<string, JsonValue>;

const identityCodec: StateCodec = {
  encode: (shared) => shared as JsonValue,
  decode: (stored) => stored as SharedState,
};

function assertResumeFrom(value: unknown): asserts value is number | undefined {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    const shown = typeof value === "string" ? JSON.stringify(value) : String(value);
    throw new RangeError(
      `resumeFrom must be a non-negative integer step number, got ${shown} (${typeof value})`,
    );
  }
}

/**
 * Runs a workflow one node per step, appending a step record to the journal
 * after each. Build one with `WorkflowEngine.create`.
 */
export class WorkflowEngine<Shared extends SharedState = SharedState> {
  readonly workflowId: string;
  readonly storage: WorkflowStorage;
  readonly #definition: WorkflowDefinition<Shared>;
  readonly #codec: StateCodec<Shared>;
  #run: RunMetadata;
  /** The record the engine stands on: the head, or step k after a resume from k. */
  #current: StepRecord;
  /**
   * JSON of the committed state, to restore the live state when a node fails
   * or waits: the JSON of `#current` itself once this engine wrote it (the
   * text the adapter stores too), else of `#current.shared`.
   */
  #committed: { json: string; wholeRecord: boolean };
  #shared: Shared;
  #status: RunStatus;
  #nextNodeId: string | null;
  #answers: Answers;
  #error: Error | undefined;
  readonly #onEvent: ((event: WorkflowEvent) => void) | undefined;
  /** The step in progress, if any: `cancel()` waits for it. */
  #inFlight: Promise<boolean> | null = null;
  /** Gives up the step in progress. */
  #abort: StepAbort | null = null;
  /** The key step of the last step run (record step → first attempt's step), so a retry in this engine reads nothing. */
  readonly #attemptKeys = new Map<number, number>();
  /** Set by `cancel()` while a step runs: that step journals the cancel instead of its outcome. */
  #cancelReason: string | undefined;

  private constructor(
    storage: WorkflowStorage,
    definition: WorkflowDefinition<Shared>,
    codec: StateCodec<Shared>,
    run: RunMetadata,
    record: StepRecord,
    onEvent: ((event: WorkflowEvent) => void) | undefined,
  ) {
    this.storage = storage;
    this.#onEvent = onEvent;
    this.workflowId = run.workflowId;
    this.#definition = definition;
    this.#codec = codec;
    this.#run = run;
    this.#current = record;
    this.#committed = { json: JSON.stringify(record.shared), wholeRecord: false };
    this.#shared = codec.decode(this.#committedState());
    this.#answers = {};
    this.#error = undefined;
    this.#status = record.status;
    this.#nextNodeId = null;
    this.#moveTo(record);
  }

  /**
   * Starts a new run, or with `runId` resumes one (from its head or
   * `resumeFrom`), or with `fork: true` forks one. A new run or fork is in the
   * journal before this resolves; resuming writes nothing.
   */
  static async create<Shared extends SharedState = SharedState>(
    options: WorkflowEngineOptions<Shared>,
  ): Promise<WorkflowEngine<Shared>> {
    const { workflowId, runId, resumeFrom, fork = false, newRunId: givenId, onEvent } = options;
    assertValidId(workflowId, "workflowId");
    if (runId !== undefined) assertValidId(runId, "runId");
    assertResumeFrom(resumeFrom);
    if (runId === undefined && (resumeFrom !== undefined || fork)) {
      throw new TypeError("`resumeFrom` and `fork` need the `runId` of the run to continue.");
    }
    if (givenId !== undefined) {
      assertValidId(givenId, "newRunId");
      if (runId !== undefined && !fork) {
        throw new TypeError(
          "`newRunId` names a run this call creates: a new run (no `runId`) or a fork (`fork: true`), not a resumed one.",
        );
      }
    }
    if (onEvent !== undefined && typeof onEvent !== "function") {
      throw new TypeError("onEvent must be a function.");
    }
    const definition = new WorkflowDefinition(options.nodes, options.edges ?? [], options.start);
    const codec = (options.codec ?? identityCodec) as StateCodec<Shared>;
    const initial = runId === undefined ? encodeInitialState(options.initialState, codec) : null;
    const storage = options.storage ?? (await loadDefaultStorage());

    if (initial !== null) {
      const { run, record } = newRun(workflowId, definition, initial, givenId);
      await storage.createRun(run, record);
      const engine = new WorkflowEngine(storage, definition, codec, run, record, onEvent);
      engine.#emit({ type: "runStarted", ...engine.#ref(0), forkedFrom: null });
      return engine;
    }

    // Adapters check what they read; checked again here so that no store,
    // third-party ones included, can hand the engine a damaged record.
    const source = checkRunMetadata(
      await storage.getRun(workflowId, runId as string),
      `${storageName(storage)}.getRun(${JSON.stringify(workflowId)}, ${JSON.stringify(runId)})`,
      { workflowId, runId },
    );
    const atHead = resumeFrom === undefined;
    const from = resumeFrom ?? source.headStep;
    const location = `${storageName(storage)}: step ${from} of run ${JSON.stringify(runId)}`;
    const record = atHead
      ? // Another writer may append between getRun and getLatestStep: the head read may be newer.
        checkStepRecord(await storage.getLatestStep(workflowId, source.runId), location, {
          workflowId,
          runId: source.runId,
        })
      : checkStepRecord(await readTimelineStep(storage, source, from), location, {
          workflowId,
          step: from,
        });
    const head = atHead ? advanceRunMetadata(source, record) : source;
    const incompatible = definition.incompatibleNodes(record);
    if (incompatible.length > 0) {
      throw new IncompatibleStateError(source.runId, record.step, incompatible);
    }
    if (!fork) return new WorkflowEngine(storage, definition, codec, head, record, onEvent);
    if (record.status === "cancelled") {
      throw new ForkOfCancelStepError(workflowId, source.runId, record.step, record.parent);
    }

    const { run, first } = forkRun(head, record, definition, givenId);
    await storage.createRun(run, first);
    const engine = new WorkflowEngine(storage, definition, codec, run, first, onEvent);
    engine.#emit({ type: "runStarted", ...engine.#ref(first.step), forkedFrom: run.forkedFrom });
    return engine;
  }

  get runId(): string {
    return this.#run.runId;
  }

  get status(): RunStatus {
    return this.#status;
  }

  /** The live shared state. Nodes change it in `prepare`/`cleanup`; it is journalled after each step. */
  get shared(): Shared {
    return this.#shared;
  }

  /** The pending question while the run is `waiting_for_input`, else null. */
  get awaitingInput(): InputRequest | null {
    return this.#status === "waiting_for_input" ? this.#current.awaitingInput : null;
  }

  /** Why the run failed, when `status` is `failed`. */
  get error(): Error | undefined {
    return this.#error;
  }

  /** Step number the engine stands on. */
  get currentStep(): number {
    return this.#current.step;
  }

  /** Highest step number of the run; the next step appended gets `headStep + 1`. */
  get headStep(): number {
    return this.#run.headStep;
  }

  /** Node the next step runs, or null when the run is completed. */
  get nextNodeId(): string | null {
    return this.#nextNodeId;
  }

  get forkedFrom(): RunMetadata["forkedFrom"] {
    return this.#run.forkedFrom;
  }

  /** The step records of the timeline ending at the current step, oldest first. */
  history(): Promise<StepRecord[]> {
    // The current record's state is the live object; hand out a copy.
    const current = { ...this.#current, shared: this.#committedState() };
    return readHistory(this.storage, this.#run, current);
  }

  /**
   * Runs one node and appends its record. `input` answers pending or future
   * questions of this step only (keys are request ids). Resolves to true when
   * the run can go on, false when it is completed, failed or waiting. A failed
   * run retries its failed node. Rejects only for storage errors (such as
   * STEP_CONFLICT when another writer advanced the run) and misuse.
   */
  step(input?: Record<string, unknown>, options: StepOptions = {}): Promise<boolean> {
    if (this.#inFlight) {
      return Promise.reject(
        new Error("step() or run() is already in progress on this engine; await it first."),
      );
    }
    const attempt = options.attempt ?? 0;
    if (!Number.isSafeInteger(attempt) || attempt < 0) {
      return Promise.reject(
        new RangeError(`attempt must be a non-negative integer, got ${String(attempt)}`),
      );
    }
    const inFlight = this.#step(input, options, attempt).finally(() => {
      this.#inFlight = null;
      this.#abort = null;
      this.#cancelReason = undefined;
    });
    this.#inFlight = inFlight;
    return inFlight;
  }

  /** Steps until the run is completed, failed, cancelled or waiting for input; `input` goes to the first step only. */
  async run(input?: Record<string, unknown>, options: StepOptions = {}): Promise<RunStatus> {
    let next = input;
    while (await this.step(next, options)) next = undefined;
    return this.#status;
  }

  /**
   * Cancels the run: appends a step with status `cancelled` and `reason`
   * (code CANCELLED), after which step() does nothing. A node in progress on
   * this engine has its context signal fired, and the step journals the
   * cancel instead of the node's outcome (unless its record was written
   * already; the cancel then follows it). Resolves to false, writing
   * nothing, when the run was completed or cancelled already. Like step(),
   * rejects with STEP_CONFLICT when another writer advanced the run; to
   * cancel a run from anywhere without an engine, use `cancelRun`.
   */
  async cancel(reason = "cancelled"): Promise<boolean> {
    if (typeof reason !== "string") throw new TypeError("The cancel reason must be a string.");
    const inFlight = this.#inFlight;
    if (inFlight) {
      this.#cancelReason = reason;
      this.#abort?.abort(new Error(`run cancelled: ${reason}`));
      await inFlight.catch(() => undefined);
      if (this.#status === "cancelled") return true;
    }
    if (this.#status === "completed" || this.#status === "cancelled") return false;
    await this.#journalCancel(reason);
    return true;
  }

  async #step(
    input: Record<string, unknown> | undefined,
    options: StepOptions,
    attempt: number,
  ): Promise<boolean> {
    if (input !== undefined) {
      if (typeof input !== "object" || input === null || Array.isArray(input)) {
        throw new TypeError("step(input) takes an object of answers keyed by request id.");
      }
      for (const key of Object.keys(input)) assertValidRequestId(key, "request id in step(input)");
      assertJsonSerializable(input, "input");
    }
    const nodeId = this.#nextNodeId;
    if (nodeId === null) return false;
    const awaited = this.awaitingInput;
    if (awaited && !hasAnswer(input, awaited.requestId)) {
      // No input is a plain "still waiting"; input for other questions is a mistake to report.
      const given = Object.keys(input ?? {}).filter((key) => input?.[key] !== undefined);
      if (given.length > 0) throw new UnexpectedInputError(this.runId, awaited.requestId, given);
      return false;
    }

    const node = this.#definition.nodes.get(nodeId) as Node<Shared>;
    const answers: Answers = { ...this.#answers, ...(input as Answers | undefined) };
    const step = this.#run.headStep + 1;
    // Only a retry of a failed node has a key from an earlier step.
    const keyStep =
      this.#current.status === "failed" ? await this.#firstAttemptStep(nodeId, step) : step;
    const abort = new StepAbort(options.signal);
    this.#abort = abort;
    try {
      const outcome = await abort.race(
        runNode(
          node,
          this.#shared,
          answers,
          (shared) => this.#definition.nextAfter(nodeId, shared),
          {
            workflowId: this.workflowId,
            runId: this.runId,
            step,
            get signal() {
              return abort.signal;
            },
            idempotencyKey: `${this.workflowId}/${this.runId}/${keyStep}`,
          },
          attempt,
        ),
      );
      // The node has changed the live state. Whatever happens from here on,
      // step() either stands on the record it appended or rejects with the
      // live state back at the last record: a rejected step is never applied
      // twice by the next one.
      try {
        if (abort.aborted) {
          this.#restoreShared();
          if (this.#cancelReason !== undefined) {
            await this.#journalCancel(this.#cancelReason);
            return false;
          }
          throw new StepAbortedError(this.workflowId, this.runId, step, abort.reason);
        }
        return await this.#journal(nodeId, node, outcome as NodeOutcome, options.retryAt);
      } catch (error) {
        this.#restoreShared();
        throw error;
      }
    } finally {
      abort.dispose();
    }
  }

  /**
   * The step number of the first attempt of the node this step retries: a
   * failed node's retries keep its idempotency key, so a call that failed
   * after taking effect (a timeout) is recognised when made again. Follows
   * the chain of this node's failed records back through their parents;
   * `step` when the engine does not stand on a failure of this node.
   */
  async #firstAttemptStep(nodeId: string, step: number): Promise<number> {
    let record = this.#current;
    let first = step;
    while (record.status === "failed" && record.previousNodeId === nodeId) {
      first = record.step;
      const cached = this.#attemptKeys.get(record.step);
      if (cached !== undefined) return cached;
      if (record.parent === null) break;
      try {
        record = await readTimelineStep(this.storage, this.#run, record.parent);
      } catch {
        // A fork whose source was deleted: the chain starts at the fork point.
        break;
      }
    }
    this.#attemptKeys.clear();
    this.#attemptKeys.set(step, first);
    return first;
  }

  /** Appends a cancel record on the head and stands on it. */
  async #journalCancel(reason: string): Promise<void> {
    // `#current.shared` can be the live object a node still holds: take the committed JSON.
    const base = { ...this.#current, shared: this.#committedState() };
    const record = cancelRecord(base, {
      workflowId: this.workflowId,
      runId: this.runId,
      step: this.#run.headStep + 1,
      createdAt: new Date().toISOString(),
      reason,
    });
    const json = serialiseRecord(record);
    await this.storage.appendStep(record);
    this.#run = advanceRunMetadata(this.#run, record);
    this.#current = record;
    this.#committed = { json, wholeRecord: true };
    this.#restoreShared();
    this.#moveTo(record);
    this.#emit({ type: "cancelled", ...this.#ref(record.step), reason });
  }

  /** Appends the record of `outcome` and stands on it. */
  async #journal(
    nodeId: string,
    node: Node<Shared>,
    outcome: NodeOutcome,
    retryAt: StepOptions["retryAt"],
  ): Promise<boolean> {
    const recorded = this.#recordOutcome(nodeId, outcome, retryAt);
    const record = nextRecord(
      this.#current,
      {
        workflowId: this.workflowId,
        runId: this.runId,
        step: this.#run.headStep + 1,
        createdAt: new Date().toISOString(),
        nodeId,
        nodeType: node.type,
        inputs: outcome.consumed,
      },
      recorded.outcome,
    );
    // One serialisation of the state per step: this text is what the adapter
    // stores (stepRecordJson) and what a later failure restores the state from.
    const json = serialiseRecord(record);
    await this.storage.appendStep(record);
    this.#run = advanceRunMetadata(this.#run, record);
    this.#current = record;
    this.#committed = { json, wholeRecord: true };
    if (recorded.outcome.kind !== "completed") this.#restoreShared();
    this.#moveTo(record, { cause: recorded.cause, next: record.nextNodeId });
    this.#emitStep(record);
    return this.#status === "running";
  }

  #ref(step: number): { workflowId: string; runId: string; step: number } {
    return { workflowId: this.workflowId, runId: this.runId, step };
  }

  #emit(event: WorkflowEvent): void {
    emitEvent(this.#onEvent, event);
  }

  /** The events of a step record this engine appended. */
  #emitStep(record: StepRecord): void {
    if (this.#onEvent === undefined) return;
    const ref = this.#ref(record.step);
    this.#emit({
      type: "stepAppended",
      ...ref,
      nodeId: record.previousNodeId as string,
      status: record.status,
    });
    if (record.status === "waiting_for_input" && record.awaitingInput) {
      this.#emit({ type: "waiting", ...ref, request: record.awaitingInput });
    } else if (record.status === "completed") {
      this.#emit({ type: "completed", ...ref });
    } else if (record.status === "failed") {
      this.#emit({ type: "failed", ...ref, error: this.#error ?? new Error("failed") });
    }
  }

  /**
   * What the journal keeps of `outcome`, and the JSON of the state the engine
   * then stands on. Only a completed node's changes survive; a failed or
   * waiting node runs again from the state before it, so its record keeps
   * that state. A completed node whose state the codec cannot encode is
   * recorded as failed, with `cause` the encoding error.
   */
  #recordOutcome(
    nodeId: string,
    outcome: NodeOutcome,
    retryAt: StepOptions["retryAt"],
  ): { outcome: RecordOutcome; cause: unknown } {
    let cause: unknown;
    if (outcome.kind === "completed") {
      try {
        const shared = encodeState(this.#shared, this.#codec, "shared");
        return { outcome: { kind: "completed", shared, next: outcome.next }, cause };
      } catch (error) {
        cause = error;
      }
    } else if (outcome.kind === "failed") {
      cause = outcome.error;
    }
    const before = this.#committedState();
    if (outcome.kind === "waiting") {
      return { outcome: { kind: "waiting", shared: before, request: outcome.request }, cause };
    }
    const error = toRecordedError(cause, nodeId);
    const retry = retryAt?.();
    if (retry instanceof Date && !Number.isNaN(retry.getTime()))
      error.retryAt = retry.toISOString();
    return { outcome: { kind: "failed", shared: before, error }, cause };
  }

  /** A fresh copy of the committed state, as the journal keeps it. */
  #committedState(): JsonValue {
    const parsed = JSON.parse(this.#committed.json) as JsonValue;
    return this.#committed.wholeRecord ? (parsed as unknown as StepRecord).shared : parsed;
  }

  #restoreShared(): void {
    this.#shared = this.#codec.decode(this.#committedState());
  }

  /**
   * Takes `record` as the one the engine stands on: sets status, next node,
   * pending answers and error from it (`fresh` when this engine just wrote
   * it). On a record read from the journal, apart from a pending question or
   * a failure, the next node is recomputed from the current edges, so a
   * definition that gained an edge continues a run that had completed.
   */
  #moveTo(record: StepRecord, fresh?: { cause: unknown; next: string | null }): void {
    this.#answers = {};
    this.#error = undefined;
    if (record.status === "cancelled") {
      // Cancelled ends the run whatever the definition says next.
      this.#status = "cancelled";
      this.#nextNodeId = null;
      return;
    }
    if (record.status === "waiting_for_input" && record.awaitingInput) {
      this.#status = "waiting_for_input";
      this.#nextNodeId = record.awaitingInput.nodeId;
      this.#answers = { ...record.inputs };
      return;
    }
    if (record.status === "failed") {
      this.#status = "failed";
      // A retry is the same node run again: it gets the answers it had.
      this.#answers = { ...record.inputs };
      this.#nextNodeId = record.previousNodeId ?? this.#definition.start;
      const cause = fresh?.cause;
      this.#error =
        cause instanceof Error
          ? cause
          : record.error
            ? errorFromRecord(record.error)
            : new Error("failed");
      return;
    }
    if (fresh) this.#nextNodeId = fresh.next;
    else if (record.previousNodeId === null) this.#nextNodeId = this.#definition.start;
    else this.#nextNodeId = this.#definition.nextAfter(record.previousNodeId, this.#shared);
    this.#status = this.#nextNodeId === null ? "completed" : "running";
  }
}

function encodeInitialState<Shared extends SharedState>(
  initialState: Shared | undefined,
  codec: StateCodec<Shared>,
): JsonValue {
  const state = initialState ?? ({} as Shared);
  if (typeof state !== "object" || state === null || Array.isArray(state)) {
    throw new TypeError("initialState must be a plain object.");
  }
  return encodeState(state, codec, "initialState");
}

/**
 * The state as the journal stores it: the codec's JSON, which must be a JSON
 * object that JSON keeps exactly (NOT_SERIALIZABLE naming the path otherwise).
 */
function encodeState<Shared extends SharedState>(
  state: Shared,
  codec: StateCodec<Shared>,
  path: string,
): JsonValue {
  const encoded = codec.encode(state);
  assertJsonSerializable(encoded, path);
  if (typeof encoded !== "object" || encoded === null || Array.isArray(encoded)) {
    throw new NotSerializableError(
      path,
      `${encoded === null ? "null" : Array.isArray(encoded) ? "an array" : typeof encoded} where the journal keeps a JSON object (a codec's encode must return one)`,
    );
  }
  return encoded;
}

/** How messages name a store: its class. */
function storageName(storage: WorkflowStorage): string {
  return (storage as { constructor?: { name?: string } }).constructor?.name ?? "storage";
}

function newRun<Shared extends SharedState>(
  workflowId: string,
  definition: WorkflowDefinition<Shared>,
  shared: JsonValue,
  givenId: string | undefined,
): { run: RunMetadata; record: StepRecord } {
  const now = new Date();
  const createdAt = now.toISOString();
  const runId = givenId ?? newRunId(now);
  const record = firstRecord({ workflowId, runId, createdAt, shared, start: definition.start });
  const run: RunMetadata = {
    formatVersion: JOURNAL_FORMAT_VERSION,
    workflowId,
    runId,
    createdAt,
    updatedAt: createdAt,
    status: "running",
    headStep: 0,
    forkedFrom: null,
    definition: definition.fingerprint,
  };
  return { run, record };
}

/** The fork's metadata and its first record: the source's record k under the new run id. */
function forkRun<Shared extends SharedState>(
  source: RunMetadata,
  record: StepRecord,
  definition: WorkflowDefinition<Shared>,
  givenId: string | undefined,
): { run: RunMetadata; first: StepRecord } {
  const now = new Date();
  const createdAt = now.toISOString();
  const runId = givenId ?? newRunId(now);
  const first = forkRecord(record, runId, createdAt);
  const run: RunMetadata = {
    formatVersion: JOURNAL_FORMAT_VERSION,
    workflowId: source.workflowId,
    runId,
    createdAt,
    updatedAt: createdAt,
    status: record.status,
    headStep: record.step,
    forkedFrom: { runId: source.runId, step: record.step },
    definition: definition.fingerprint,
  };
  return { run, first };
}
