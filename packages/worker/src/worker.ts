import { EventEmitter } from "node:events";
import {
  hasErrorCode,
  type RunMetadata,
  WorkflowEngine,
  type WorkflowEvent,
  type WorkflowSpec,
  type WorkflowStorage,
} from "@wf/core";
import { missingStorageMethods } from "@wf/core/storage";
import type { WorkerEventName, WorkerEvents } from "./events.js";
import { silentLogger, type WorkerLogger } from "./logger.js";
import {
  type Consumer,
  type JobOutcome,
  jobKey,
  type LeasedJob,
  type RunJob,
  type RunQueue,
} from "./queue.js";
import { type RetryContext, withQueueRetries } from "./retry-nodes.js";
import { loadTracer, noopTracer, type WorkerTracer } from "./tracing.js";
import { type StepWatch, watchStep } from "./watch.js";

export interface WorkerOptions {
  /** The store runs are journalled to. */
  storage: WorkflowStorage;
  queue: RunQueue;
  /** The workflows this worker runs; a job of any other workflow is dead-lettered. */
  workflows: readonly WorkflowSpec[];
  /** Jobs handled at once. Default 1. */
  concurrency?: number;
  /** Steps run per job before the run is requeued, so long runs do not starve short ones. Default 10. */
  stepsPerJob?: number;
  /** A pino-compatible logger. Default: silent. */
  logger?: WorkerLogger;
  /**
   * While a node runs, how often the worker reads the run's head to notice
   * that it was cancelled or advanced by another writer; the node's signal
   * then fires. Default 1 000 ms.
   */
  watchIntervalMs?: number;
  /**
   * How long `close()` lets the steps in progress finish before it fires
   * their signals and hands their jobs back to the queue. Default 30 000 ms.
   */
  closeTimeoutMs?: number;
  /**
   * Runs `sweep()` this often while started, so a run made runnable outside
   * the queue (a `wf resume`, a fork) gets a job. 0 turns it off. Default 60 000 ms.
   */
  sweepIntervalMs?: number;
}

/** Why a step's signal fired: it decides what becomes of the job. */
type GiveUp =
  | { kind: "cancelled"; run: RunMetadata }
  | { kind: "advanced"; run: RunMetadata }
  | { kind: "closing" };

/**
 * Takes run jobs from a queue and advances each run by up to `stepsPerJob`
 * steps, then requeues it. Delivery is at least once, so a node's side
 * effects are too; the journal's conditional append makes each step land once.
 */
export class Worker {
  readonly #storage: WorkflowStorage;
  readonly #queue: RunQueue;
  readonly #workflows: ReadonlyMap<string, WorkflowSpec>;
  readonly #concurrency: number;
  readonly #stepsPerJob: number;
  readonly #logger: WorkerLogger;
  readonly #events = new EventEmitter();
  readonly #watchIntervalMs: number;
  readonly #closeTimeoutMs: number;
  readonly #sweepIntervalMs: number;
  #consumer: Consumer | null = null;
  #closing = false;
  #tracer: WorkerTracer = noopTracer;
  #sweepTimer: NodeJS.Timeout | null = null;
  /** Steps in progress, fired by a close() that runs out of time. */
  readonly #active = new Set<StepWatch<GiveUp>>();

  constructor(options: WorkerOptions) {
    checkStorage("Worker", options?.storage);
    this.#storage = options.storage;
    this.#queue = options.queue;
    const workflows = new Map<string, WorkflowSpec>();
    for (const workflow of options.workflows) {
      if (workflows.has(workflow.workflowId)) {
        throw new TypeError(`Two workflows have the id ${JSON.stringify(workflow.workflowId)}.`);
      }
      workflows.set(workflow.workflowId, workflow);
    }
    this.#workflows = workflows;
    this.#concurrency = positiveInteger("concurrency", options.concurrency ?? 1);
    this.#stepsPerJob = positiveInteger("stepsPerJob", options.stepsPerJob ?? 10);
    this.#logger = options.logger ?? silentLogger;
    this.#watchIntervalMs = positiveInteger("watchIntervalMs", options.watchIntervalMs ?? 1_000);
    this.#closeTimeoutMs = nonNegativeInteger("closeTimeoutMs", options.closeTimeoutMs ?? 30_000);
    this.#sweepIntervalMs = nonNegativeInteger(
      "sweepIntervalMs",
      options.sweepIntervalMs ?? 60_000,
    );
  }

  on<E extends WorkerEventName>(event: E, listener: (payload: WorkerEvents[E]) => void): this {
    this.#events.on(event, listener);
    return this;
  }

  off<E extends WorkerEventName>(event: E, listener: (payload: WorkerEvents[E]) => void): this {
    this.#events.off(event, listener);
    return this;
  }

  /** Starts taking jobs. */
  async start(): Promise<void> {
    if (this.#consumer) throw new Error("This worker is already started.");
    this.#closing = false;
    this.#tracer = await loadTracer();
    this.#consumer = await this.#queue.consume({
      concurrency: this.#concurrency,
      handler: (job) => this.#handle(job),
      onLeaseLost: (key) => {
        const [workflowId = "", runId = ""] = key.split("/");
        this.#emit("leaseLost", {
          workflowId,
          runId,
          reason: "the queue reports the job's lease lost",
        });
        this.#logger.warn({ workflowId, runId, job: key }, "lease lost");
      },
    });
    if (this.#sweepIntervalMs > 0) {
      this.#sweepTimer = setInterval(() => {
        this.sweep().catch((error: unknown) => {
          this.#logger.warn({ error: (error as Error).message }, "periodic sweep failed");
        });
      }, this.#sweepIntervalMs);
      this.#sweepTimer.unref();
    }
  }

  /**
   * Finishes the steps in progress and leaves every other job queued for
   * another worker. A step still running after `timeoutMs` (default the
   * `closeTimeoutMs` option) has its node's signal fired; nothing of it is
   * journalled and its job goes back to the queue, so the step runs again
   * elsewhere.
   */
  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = nonNegativeInteger("timeoutMs", options.timeoutMs ?? this.#closeTimeoutMs);
    // Jobs in progress stop after their current step and requeue their run.
    this.#closing = true;
    if (this.#sweepTimer) clearInterval(this.#sweepTimer);
    this.#sweepTimer = null;
    const consumer = this.#consumer;
    this.#consumer = null;
    if (!consumer) return;
    const timer = setTimeout(() => {
      for (const watch of this.#active) watch.giveUp({ kind: "closing" });
    }, timeoutMs);
    try {
      await consumer.close();
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Enqueues every running run of this worker's workflows at its head. A job
   * that exists already is not duplicated (one key per run and step), so
   * this is safe to run at any time, on any number of workers: it is what
   * guarantees that no run stays runnable without a job after a crash
   * between a step and its requeue by anything but a worker. Returns how
   * many runs it enqueued.
   */
  async sweep(): Promise<number> {
    let count = 0;
    for (const workflowId of this.#workflows.keys()) {
      let cursor: string | null = null;
      do {
        const page = await this.#storage.listRuns(workflowId, { status: "running", cursor });
        for (const run of page.items) {
          await this.#queue.enqueue({ workflowId, runId: run.runId, atStep: run.headStep });
          count += 1;
        }
        cursor = page.nextCursor;
      } while (cursor !== null);
    }
    return count;
  }

  #emit<E extends WorkerEventName>(event: E, payload: WorkerEvents[E]): void {
    this.#events.emit(event, payload);
  }

  async #handle(job: LeasedJob): Promise<JobOutcome> {
    const { workflowId, runId } = job.data;
    const workflow = this.#workflows.get(workflowId);
    if (!workflow) {
      return this.#dead(
        job.data,
        `this worker has no workflow ${JSON.stringify(workflowId)} (it has ${[...this.#workflows.keys()].map((id) => JSON.stringify(id)).join(", ") || "none"}). Start a worker with that workflow, then enqueue the run again.`,
      );
    }
    const retry: RetryContext = {
      attempt: job.data.attempt ?? 0,
      scheduledAt: null,
      schedule: async (attempt, delayMs) => {
        // The failed step will be the run's next one: the retry job is keyed at it.
        const atStep = (engine?.headStep ?? -1) + 1;
        // Taken before the enqueue: the queue's job is due no sooner than this.
        const due = new Date(Date.now() + delayMs);
        await this.#queue.enqueue({ workflowId, runId, atStep, attempt }, { delayMs });
        retry.scheduledAt = due;
        this.#emit("retryScheduled", { workflowId, runId, step: atStep, attempt, delayMs });
      },
    };
    const nodes = workflow.nodes.map((node) => withQueueRetries(node, retry));
    const definition = { ...workflow, nodes };
    let engine: WorkflowEngine | null = null;
    try {
      engine = await this.#open(job.data, definition);
    } catch (error) {
      // Retrying cannot help these: a run that fails validation, a deleted run, or a
      // definition the engine refuses (a TypeError or RangeError naming the mistake).
      if (
        hasErrorCode(error, "INCOMPATIBLE_STATE") ||
        hasErrorCode(error, "RUN_NOT_FOUND") ||
        error instanceof TypeError ||
        error instanceof RangeError
      ) {
        return this.#dead(job.data, (error as Error).message);
      }
      throw error;
    }
    return this.#advance(job.data, engine, retry);
  }

  /** The run's engine, creating the run first for a start job (a second start of one key finds it). */
  async #open(job: RunJob, definition: WorkflowSpec): Promise<WorkflowEngine> {
    const onEvent = (event: WorkflowEvent) => {
      if (event.type === "runStarted") {
        this.#emit("runStarted", { workflowId: event.workflowId, runId: event.runId });
      }
    };
    if (job.atStep === -1) {
      try {
        return await WorkflowEngine.create({
          ...definition,
          storage: this.#storage,
          newRunId: job.runId,
          initialState: job.initialState ?? definition.initialState ?? {},
          onEvent,
        });
      } catch (error) {
        if (!hasErrorCode(error, "RUN_EXISTS")) throw error;
      }
    }
    const engine = await WorkflowEngine.create({
      ...definition,
      storage: this.#storage,
      runId: job.runId,
    });
    if (engine.headStep >= job.atStep) return engine;
    // Only a retry job is keyed above the head: the failed step it follows.
    // It is enqueued before that step is journalled (so a crash in between
    // cannot lose it), and can be delivered first: wait for the failure.
    await this.#untilHead(job);
    return WorkflowEngine.create({ ...definition, storage: this.#storage, runId: job.runId });
  }

  /**
   * Resolves once the run's head reaches the job's step. After
   * RETRY_WAIT_MS it rejects, which hands the job back to the queue (it
   * comes back a second later): the worker that failed may have crashed
   * before journalling the failure, and its own job then runs the node again.
   */
  async #untilHead(job: RunJob): Promise<void> {
    const deadline = Date.now() + RETRY_WAIT_MS;
    for (;;) {
      const run = await this.#storage.getRun(job.workflowId, job.runId);
      if (run.headStep >= job.atStep) return;
      if (Date.now() >= deadline) {
        throw new Error(
          `Run ${job.runId} has not journalled step ${job.atStep}, the failure this retry follows, within ${RETRY_WAIT_MS} ms; the job goes back to the queue.`,
        );
      }
      await sleep(RETRY_POLL_MS);
    }
  }

  async #advance(job: RunJob, engine: WorkflowEngine, retry: RetryContext): Promise<JobOutcome> {
    const { workflowId, runId } = job;
    const run = { workflowId, runId };
    // Answers belong to the question the run waited on when they were sent, never to a later one.
    let input =
      job.answers && engine.status === "waiting_for_input" && engine.headStep === job.atStep
        ? job.answers
        : undefined;
    // A failed run runs again only from its retry job; any other job leaves it failed and visible.
    if (engine.status === "failed" && job.attempt === undefined) return { kind: "done" };
    try {
      for (let steps = 0; steps < this.#stepsPerJob; steps++) {
        const before = engine.headStep;
        const more = await this.#step(engine, input, retry);
        // Nothing appended: a wait without its answer, or a completed or cancelled run.
        if (engine.headStep === before) break;
        input = undefined;
        retry.attempt = 0;
        this.#emit("stepAppended", { ...run, step: engine.headStep, status: engine.status });
        if (!more || this.#closing) break;
      }
    } catch (error) {
      if (error instanceof GivenUp) return this.#givenUp(job, error.why, error.cause);
      if (hasErrorCode(error, "STEP_CONFLICT")) {
        // Another writer advanced the run: a cancel, or a worker that holds the run's job now.
        const now = await this.#storage.getRun(job.workflowId, job.runId).catch(() => null);
        if (now?.status === "cancelled") return this.#givenUp(job, { kind: "cancelled", run: now });
        this.#emit("leaseLost", { ...run, reason: (error as Error).message });
        this.#logger.info({ ...run }, "another writer advanced the run; job dropped");
        return { kind: "done" };
      }
      if (hasErrorCode(error, "UNEXPECTED_INPUT")) return this.#dead(job, (error as Error).message);
      throw error;
    }
    return this.#after(job, engine);
  }

  /**
   * One step under a span, with a signal that fires when the run's head
   * moves under it (a cancel, another writer) or close() runs out of time.
   */
  async #step(
    engine: WorkflowEngine,
    input: Record<string, unknown> | undefined,
    retry: RetryContext,
  ): Promise<boolean> {
    const step = engine.headStep + 1;
    const attempt = retry.attempt;
    retry.scheduledAt = null;
    const attributes = {
      "wf.workflow_id": engine.workflowId,
      "wf.run_id": engine.runId,
      "wf.step": step,
      "wf.node_id": engine.nextNodeId ?? "",
      "wf.attempt": attempt,
    };
    return this.#tracer.span("wf.step", attributes, async (span) => {
      const watch = watchStep<GiveUp>({
        intervalMs: this.#watchIntervalMs,
        check: async () => {
          const run = await this.#storage.getRun(engine.workflowId, engine.runId);
          if (run.headStep < step) return null;
          return run.status === "cancelled"
            ? { kind: "cancelled", run }
            : { kind: "advanced", run };
        },
        describe: (why) => GIVE_UP_TEXT[why.kind],
      });
      this.#active.add(watch);
      try {
        const more = await engine.step(input, {
          signal: watch.signal,
          attempt,
          retryAt: () => retry.scheduledAt,
        });
        span.set({ "wf.status": engine.status });
        return more;
      } catch (error) {
        if (hasErrorCode(error, "STEP_ABORTED") && watch.reason !== undefined) {
          throw new GivenUp(watch.reason, error);
        }
        throw error;
      } finally {
        watch.stop();
        this.#active.delete(watch);
      }
    });
  }

  /** What becomes of a job whose step was given up. */
  #givenUp(job: RunJob, why: GiveUp, cause?: unknown): JobOutcome {
    const run = { workflowId: job.workflowId, runId: job.runId };
    switch (why.kind) {
      case "cancelled":
        this.#emit("cancelled", { ...run, step: why.run.headStep });
        this.#logger.info({ ...run, step: why.run.headStep }, "run cancelled; job dropped");
        return { kind: "done" };
      case "advanced":
        this.#emit("leaseLost", { ...run, reason: "another writer advanced the run mid-step" });
        this.#logger.info({ ...run }, "another writer advanced the run mid-step; job dropped");
        return { kind: "done" };
      case "closing":
        // Rejecting hands the job back: another worker runs the step again.
        this.#logger.warn({ ...run }, "worker closing: step given up, job handed back");
        throw cause ?? new Error("worker closing: step given up");
    }
  }

  async #after(job: RunJob, engine: WorkflowEngine): Promise<JobOutcome> {
    const run = { workflowId: job.workflowId, runId: job.runId };
    const step = engine.headStep;
    switch (engine.status) {
      case "running":
        // Requeued before this job completes: a crash in between leaves two jobs, never none.
        await this.#queue.enqueue({ ...run, atStep: step });
        break;
      case "waiting_for_input":
        this.#emit("waiting", { ...run, step, requestId: engine.awaitingInput?.requestId ?? "" });
        break;
      case "completed":
        this.#emit("completed", { ...run, step });
        this.#logger.info({ ...run, step }, "run completed");
        break;
      case "cancelled":
        // A job of a run cancelled before it ran (a retry, an answer): nothing to do.
        this.#logger.debug({ ...run, step }, "run is cancelled; job dropped");
        break;
      case "failed": {
        const state = await this.#queue.jobState(jobKey({ ...run, atStep: step }));
        if (state.state !== "pending" && state.state !== "active") {
          const message = engine.error?.message ?? "failed";
          this.#emit("failed", { ...run, step, message });
          this.#logger.warn({ ...run, step, error: message }, "run failed");
        }
        break;
      }
    }
    return { kind: "done" };
  }

  #dead(job: RunJob, message: string): JobOutcome {
    this.#emit("deadLettered", { workflowId: job.workflowId, runId: job.runId, message });
    this.#logger.error(
      { workflowId: job.workflowId, runId: job.runId, error: message },
      "job dead-lettered",
    );
    return { kind: "dead", message };
  }
}

/** How long a retry job delivered before its failure is journalled waits for it, and how often it looks. */
const RETRY_WAIT_MS = 5_000;
const RETRY_POLL_MS = 20;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The reason a node's signal carries. */
const GIVE_UP_TEXT: Record<GiveUp["kind"], string> = {
  cancelled: "the run was cancelled",
  advanced: "another writer advanced the run",
  closing: "the worker is closing and the step ran past its close timeout",
};

/** A step given up through its signal, with why. */
class GivenUp extends Error {
  constructor(
    readonly why: GiveUp,
    override readonly cause: unknown,
  ) {
    super(`step given up: ${why.kind}`);
  }
}

/** A TypeError naming the missing methods when `storage` is not a store. */
export function checkStorage(owner: string, storage: unknown): void {
  const missing = missingStorageMethods(storage);
  if (missing.length > 0) {
    throw new TypeError(
      `${owner} needs \`storage\`, a WorkflowStorage (such as RedisStorage or PostgresStorage); this one has no ${missing.join(", ")}.`,
    );
  }
}

function nonNegativeInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}
