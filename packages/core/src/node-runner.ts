import { assertValidRequestId } from "./ids.js";
import type { InputRequest, JsonValue } from "./journal.js";
import { assertJsonSerializable } from "./json-state.js";
import type { InputRequestOptions, Node, RequestInput, SharedState, StepContext } from "./node.js";

type Answers = Record<string, JsonValue>;

export type NodeOutcome =
  | { kind: "completed"; next: string | null; consumed: Answers }
  | InputWait
  | { kind: "failed"; error: unknown; consumed: Answers };

export interface InputWait {
  kind: "waiting";
  request: InputRequest;
  consumed: Answers;
}

/** Thrown through the node's code to stop it at an unanswered question. */
class InputRequired extends Error {
  constructor(readonly request: InputRequest) {
    super(
      `Node "${request.nodeId}" is waiting for input "${request.requestId}". ` +
        "Do not catch this error: let it stop the node, which runs again from prepare() once answered.",
    );
  }
}

/** Whether `answers` holds an answer for `requestId`. An undefined answer is none: JSON could not journal it. */
export function hasAnswer(
  answers: Record<string, unknown> | undefined,
  requestId: string,
): boolean {
  return (
    answers !== undefined && Object.hasOwn(answers, requestId) && answers[requestId] !== undefined
  );
}

/** A node's StepContext. A class, so its lazy `signal` getter lives on the prototype. */
class Context implements StepContext {
  readonly workflowId: string;
  readonly runId: string;
  readonly step: number;
  readonly idempotencyKey: string;
  readonly #of: Omit<StepContext, "attempt">;
  constructor(
    of: Omit<StepContext, "attempt">,
    readonly attempt: number,
  ) {
    this.#of = of;
    this.workflowId = of.workflowId;
    this.runId = of.runId;
    this.step = of.step;
    this.idempotencyKey = of.idempotencyKey;
  }
  get signal(): AbortSignal {
    return this.#of.signal;
  }
}

/** Waits `ms`, or less when `signal` fires first. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * One node's lifecycle: prepare (which may ask for input), execute with
 * retries and the fallback, cleanup, then the choice of the next node. Never
 * throws: every outcome is described so the engine can journal it.
 */
export async function runNode<Shared extends SharedState>(
  node: Node<Shared>,
  shared: Shared,
  answers: Answers,
  nextAfter: (shared: Shared) => string | null,
  step: Omit<StepContext, "attempt">,
  firstAttempt = 0,
): Promise<NodeOutcome> {
  const contextAt = (attempt: number): StepContext => new Context(step, attempt);
  let context = contextAt(firstAttempt);
  const consumed: Answers = {};
  let asks = 0;
  // A holder rather than a `let`, so the check after prepare() sees what the closure set.
  const wait: { request: InputRequest | null } = { request: null };

  const requestInput = (async (prompt: string, options: InputRequestOptions = {}) => {
    asks += 1;
    const requestId = options.requestId ?? (asks === 1 ? node.id : `${node.id}#${asks}`);
    assertValidRequestId(requestId);
    if (hasAnswer(answers, requestId)) {
      consumed[requestId] = answers[requestId] as JsonValue;
      return answers[requestId];
    }
    const choices = options.options ?? null;
    if (choices !== null && !Array.isArray(choices)) {
      throw new TypeError(`requestInput options of ${JSON.stringify(requestId)} must be an array.`);
    }
    // The question is journalled: what JSON would change or refuse fails the node now.
    assertJsonSerializable(choices, `requestInput(${JSON.stringify(requestId)}).options`);
    if (typeof prompt !== "string") {
      throw new TypeError(`The prompt of ${JSON.stringify(requestId)} must be a string.`);
    }
    wait.request = { nodeId: node.id, requestId, prompt, options: choices };
    throw new InputRequired(wait.request);
  }) as RequestInput;

  // A pending question stops the node wherever it was asked (prepare,
  // execute, the fallback or cleanup), even if the node caught the error:
  // no retry, no fallback, the run waits for the answer.
  const waiting = (): InputWait | null =>
    wait.request ? { kind: "waiting", request: wait.request, consumed } : null;

  let prepared: unknown;
  try {
    prepared = await node.prepare(shared, requestInput, context);
  } catch (error) {
    if (!wait.request) return { kind: "failed", error, consumed };
  }
  const askedInPrepare = waiting();
  if (askedInPrepare) return askedInPrepare;

  try {
    let result: unknown;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) context = contextAt(firstAttempt + attempt);
      try {
        result = await node.execute(prepared, context);
        break;
      } catch (error) {
        // No retry once the step is given up: its outcome will not be journalled.
        if (wait.request || step.signal.aborted) throw error;
        if (attempt >= node.maxRetries) {
          result = await node.execFallback(prepared, error, context);
          break;
        }
        await sleep(node.retryDelay(attempt + 1), step.signal);
      }
    }
    const askedInExecute = waiting();
    if (askedInExecute) return askedInExecute;
    await node.cleanup(shared, prepared, result, context);
  } catch (error) {
    return waiting() ?? { kind: "failed", error, consumed };
  }
  return waiting() ?? { kind: "completed", next: nextAfter(shared), consumed };
}
