import { assertValidId } from "./ids.js";
import type { JsonValue } from "./journal.js";

export interface NodeOptions {
  /** Unique within a workflow; stored in the journal. Default: the class name. */
  id?: string;
  /** Retries of `execute` after the first attempt. Default 0. */
  maxRetries?: number;
  /** Delay before the first retry. Default 0. */
  retryDelayMs?: number;
  /** Each further retry waits this many times longer. Default 2. */
  backoffFactor?: number;
  /** Upper bound of one retry delay. Default 30 000. */
  maxRetryDelayMs?: number;
}

export interface InputRequestOptions {
  /** Choices to show the person answering. */
  options?: JsonValue[];
  /** Key the answer is given under. Default: the node id, then `id#2`, `id#3`, … for further asks. */
  requestId?: string;
}

/**
 * Asks a person for a value. Returns the answer when the run was given one
 * under this request id; otherwise the run stops in `waiting_for_input` and
 * the node runs again from `prepare` once the answer arrives.
 */
export type RequestInput = <T = JsonValue>(
  prompt: string,
  options?: InputRequestOptions,
) => Promise<T>;

/**
 * What a node is told about the step it runs as. Every method of a node gets
 * it as its last argument.
 */
export interface StepContext {
  readonly workflowId: string;
  readonly runId: string;
  /** Number the step's record gets when it is journalled. */
  readonly step: number;
  /**
   * Retries of this node made so far for this step: 0 on the first attempt,
   * then 1, 2, … for in-process retries (`maxRetries`) and for retries a
   * worker schedules through its queue.
   */
  readonly attempt: number;
  /**
   * Fires when the run is cancelled (`engine.cancel()`), or when whoever
   * runs the step gives it up (a worker closing or losing the run). Pass it
   * to fetch and other cancellable calls. Once it fires, nothing the node
   * returns is journalled.
   */
  readonly signal: AbortSignal;
  /**
   * `workflowId/runId/step`, where `step` is the number of this node's first
   * attempt: the same every time the step runs again after a crash, in any
   * process, and the same for the retries of a node that failed (each
   * failure is journalled as a step of its own, but the key stays), so a
   * call that failed after taking effect is recognised when made again.
   * Steps run at least once, so give this key to services that deduplicate
   * requests (payment APIs, mailers) to make the effect happen once.
   */
  readonly idempotencyKey: string;
}

/** The shape every workflow's shared state has: a plain JSON object. */
export type SharedState = Record<string, unknown>;

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  const resolved = value ?? fallback;
  if (!Number.isFinite(resolved) || resolved < 0) {
    throw new RangeError(`${name} must be a non-negative number, got ${value}`);
  }
  return resolved;
}

/**
 * A unit of work. Subclass it and override what you need:
 * `prepare` reads the shared state (and may ask for input), `execute` does
 * the work (retried on failure), `cleanup` writes results back to the shared
 * state. Only `cleanup` and `prepare` see the shared state, so `execute` can
 * be retried safely.
 */
export abstract class Node<
  Shared extends SharedState = SharedState,
  Prepared = unknown,
  Result = unknown,
  Options extends NodeOptions = NodeOptions,
> {
  readonly id: string;
  readonly maxRetries: number;
  readonly retryDelayMs: number;
  readonly backoffFactor: number;
  readonly maxRetryDelayMs: number;
  protected readonly options: Options;

  constructor(options: Options = {} as Options) {
    this.options = options;
    this.id = options.id ?? this.constructor.name;
    assertValidId(this.id, "node id");
    this.maxRetries = nonNegative("maxRetries", options.maxRetries, 0);
    if (!Number.isInteger(this.maxRetries)) {
      throw new RangeError(`maxRetries must be an integer, got ${options.maxRetries}`);
    }
    this.retryDelayMs = nonNegative("retryDelayMs", options.retryDelayMs, 0);
    this.backoffFactor = nonNegative("backoffFactor", options.backoffFactor, 2);
    this.maxRetryDelayMs = nonNegative("maxRetryDelayMs", options.maxRetryDelayMs, 30_000);
  }

  /**
   * Type name stored in the journal and checked on resume. Defaults to the
   * class name; set `static type = "Name"` on the class if your bundler
   * renames classes.
   */
  get type(): string {
    const ctor = this.constructor as { type?: unknown; name: string };
    return typeof ctor.type === "string" ? ctor.type : ctor.name;
  }

  prepare(
    _shared: Shared,
    _requestInput: RequestInput,
    _context: StepContext,
  ): Prepared | Promise<Prepared> {
    return undefined as Prepared;
  }

  execute(_prepared: Prepared, _context: StepContext): Result | Promise<Result> {
    return undefined as Result;
  }

  /**
   * Called when `execute` failed on every attempt. Rethrows by default,
   * failing the run. (`context` is optional so overrides can call
   * `super.execFallback(prepared, error)`.)
   */
  execFallback(
    _prepared: Prepared,
    error: unknown,
    _context?: StepContext,
  ): Result | Promise<Result> {
    throw error;
  }

  cleanup(
    _shared: Shared,
    _prepared: Prepared,
    _result: Result,
    _context: StepContext,
  ): void | Promise<void> {}

  /** Delay before retry number `retry` (1-based). */
  retryDelay(retry: number): number {
    return Math.min(this.maxRetryDelayMs, this.retryDelayMs * this.backoffFactor ** (retry - 1));
  }
}
