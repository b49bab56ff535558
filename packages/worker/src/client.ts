import {
  assertJsonSerializable,
  assertValidId,
  cancelRun,
  hasErrorCode,
  type JsonValue,
  newRunId,
  type RunMetadata,
  type RunStatus,
  type WorkflowStorage,
} from "@wf/core";
import { JobDeadLetteredError, RunNotWaitingError, WaitTimeoutError } from "./errors.js";
import { runIdForKey } from "./idempotency.js";
import { jobKey, type RunQueue } from "./queue.js";
import { checkStorage } from "./worker.js";

export interface WorkflowClientOptions {
  /** The store the workers journal to; `wait` reads run status from it. */
  storage: WorkflowStorage;
  queue: RunQueue;
  /** How often `wait` reads the run's status. Default 100 ms. */
  pollIntervalMs?: number;
}

export interface StartOptions {
  /** Shared state of the new run (step 0). Default `{}`. Ignored when the key's run exists. */
  initialState?: Record<string, JsonValue>;
  /** Two starts with one key (per workflow) give one run, whenever they happen. */
  idempotencyKey?: string;
}

export interface WaitOptions {
  /** Give up with WAIT_TIMEOUT after this long. Default 30 000 ms. */
  timeoutMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts, answers and waits for runs without running them: every change goes
 * through the queue to a worker, which journals it.
 */
export class WorkflowClient {
  readonly #storage: WorkflowStorage;
  readonly #queue: RunQueue;
  readonly #pollIntervalMs: number;

  constructor(options: WorkflowClientOptions) {
    checkStorage("WorkflowClient", options?.storage);
    this.#storage = options.storage;
    this.#queue = options.queue;
    this.#pollIntervalMs = options.pollIntervalMs ?? 100;
  }

  /**
   * Enqueues the creation of a run; a worker creates it (step 0, journalled)
   * and runs it. Resolves to its run id as soon as the job is queued, so the
   * run id is known before the run exists: `wait` covers the gap.
   */
  async start(workflowId: string, options: StartOptions = {}): Promise<{ runId: string }> {
    assertValidId(workflowId, "workflowId");
    const initialState = options.initialState ?? {};
    if (typeof initialState !== "object" || initialState === null || Array.isArray(initialState)) {
      throw new TypeError("initialState must be a plain object.");
    }
    assertJsonSerializable(initialState, "initialState");
    const { idempotencyKey } = options;
    if (idempotencyKey !== undefined && (typeof idempotencyKey !== "string" || !idempotencyKey)) {
      throw new TypeError("idempotencyKey must be a non-empty string.");
    }
    const runId =
      idempotencyKey === undefined ? newRunId() : runIdForKey(workflowId, idempotencyKey);
    await this.#queue.enqueue({ workflowId, runId, atStep: -1, initialState });
    return { runId };
  }

  /**
   * Enqueues the run with `answers` (keyed by request id). Journals nothing:
   * the step that consumes the answers journals them.
   */
  async answer(
    workflowId: string,
    runId: string,
    answers: Record<string, JsonValue>,
  ): Promise<void> {
    if (typeof answers !== "object" || answers === null || Array.isArray(answers)) {
      throw new TypeError("answers must be an object keyed by request id.");
    }
    assertJsonSerializable(answers, "answers");
    const run = await this.#storage.getRun(workflowId, runId);
    if (run.status !== "waiting_for_input") {
      throw new RunNotWaitingError(workflowId, runId, run.status);
    }
    await this.#queue.enqueue({ workflowId, runId, atStep: run.headStep, answers });
  }

  /**
   * Cancels the run: journals a `cancelled` step on its head (see
   * `cancelRun` of @wf/core), whoever is stepping it. A worker running one
   * of its nodes fires the node's signal when it notices (within its
   * `watchIntervalMs`) and journals nothing more; later jobs of the run do
   * nothing. A run whose start job is still queued is cancelled as soon as a
   * worker has created it (within `timeoutMs`, default 30 000 ms). Resolves
   * to true when this call cancelled the run, false when it had already
   * completed or been cancelled.
   */
  async cancel(
    workflowId: string,
    runId: string,
    options: { reason?: string; timeoutMs?: number } = {},
  ): Promise<boolean> {
    assertValidId(workflowId, "workflowId");
    assertValidId(runId, "runId");
    const timeoutMs = options.timeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await cancelRun(this.#storage, workflowId, runId, { reason: options.reason });
      } catch (error) {
        if (!hasErrorCode(error, "RUN_NOT_FOUND")) throw error;
        // Not created yet: only a queued start job makes waiting for it worthwhile.
        const start = await this.#throwIfDead(workflowId, runId, -1);
        if (start !== "pending" && start !== "active") throw error;
        if (Date.now() >= deadline) throw new WaitTimeoutError(workflowId, runId, timeoutMs);
        await sleep(this.#pollIntervalMs);
      }
    }
  }

  /**
   * Resolves once the run is completed, cancelled, failed (with no retry pending) or
   * waiting for input. Rejects with JOB_DEAD_LETTERED when the run's job was
   * dead-lettered (a worker lacks the workflow, `Cannot resume: …`), and with
   * WAIT_TIMEOUT after `timeoutMs`.
   */
  async wait(workflowId: string, runId: string, options: WaitOptions = {}): Promise<RunStatus> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = await this.#status(workflowId, runId);
      if (status !== null) return status;
      if (Date.now() >= deadline) throw new WaitTimeoutError(workflowId, runId, timeoutMs);
      await sleep(this.#pollIntervalMs);
    }
  }

  /** The status `wait` stops at, or null to keep waiting. */
  async #status(workflowId: string, runId: string): Promise<RunStatus | null> {
    let run: RunMetadata;
    try {
      run = await this.#readRun(workflowId, runId);
    } catch (error) {
      if (!hasErrorCode(error, "RUN_NOT_FOUND")) throw error;
      await this.#throwIfDead(workflowId, runId, -1);
      return null;
    }
    if (run.status === "completed" || run.status === "cancelled") return run.status;
    const job = await this.#throwIfDead(workflowId, runId, run.headStep);
    if (run.status === "running" || job === "pending" || job === "active") return null;
    // A waiting run holds no job but the one answer() queued, and a failed
    // node with retries left has its delayed job queued before its failed
    // step is appended: without a job at the head, the run has stopped,
    // unless that job ran and finished between the two reads, which moved
    // the head: read the run again to tell.
    const again = await this.#readRun(workflowId, runId);
    return again.headStep === run.headStep ? run.status : null;
  }

  /**
   * getRun, read a second time after CORRUPT_RECORD: a store whose getRun is
   * not atomic with createRun can report a run created mid-read as damaged.
   * Real damage persists and is thrown by the second read.
   */
  async #readRun(workflowId: string, runId: string): Promise<RunMetadata> {
    try {
      return await this.#storage.getRun(workflowId, runId);
    } catch (error) {
      if (!hasErrorCode(error, "CORRUPT_RECORD")) throw error;
      return this.#storage.getRun(workflowId, runId);
    }
  }

  async #throwIfDead(workflowId: string, runId: string, atStep: number): Promise<string> {
    const job = await this.#queue.jobState(jobKey({ workflowId, runId, atStep }));
    if (job.state === "dead") throw new JobDeadLetteredError(workflowId, runId, job.message);
    return job.state;
  }
}
