import type { InputRequest, JsonValue } from "./journal.js";
import type { InputRequestOptions, Node, RequestInput, SharedState } from "./node.js";

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

/** Thrown through the node's `prepare` to stop it at an unanswered question. */
class InputRequired extends Error {
  constructor(readonly request: InputRequest) {
    super(
      `Node "${request.nodeId}" is waiting for input "${request.requestId}". ` +
        "Do not catch this error in prepare(): let it stop the node.",
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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
): Promise<NodeOutcome> {
  const consumed: Answers = {};
  let asks = 0;
  // A holder rather than a `let`, so the check after prepare() sees what the closure set.
  const wait: { request: InputRequest | null } = { request: null };

  const requestInput = (async (prompt: string, options: InputRequestOptions = {}) => {
    asks += 1;
    const requestId = options.requestId ?? (asks === 1 ? node.id : `${node.id}#${asks}`);
    if (hasAnswer(answers, requestId)) {
      consumed[requestId] = answers[requestId] as JsonValue;
      return answers[requestId];
    }
    wait.request = {
      nodeId: node.id,
      requestId,
      prompt: String(prompt),
      options: options.options ?? null,
    };
    throw new InputRequired(wait.request);
  }) as RequestInput;

  let prepared: unknown;
  try {
    prepared = await node.prepare(shared, requestInput);
  } catch (error) {
    if (!wait.request) return { kind: "failed", error, consumed };
  }
  // Checked even when prepare returned normally: a prepare that swallowed the
  // InputRequired error still has an unanswered question.
  if (wait.request) return { kind: "waiting", request: wait.request, consumed };

  try {
    let result: unknown;
    for (let attempt = 0; ; attempt++) {
      try {
        result = await node.execute(prepared);
        break;
      } catch (error) {
        if (attempt >= node.maxRetries) {
          result = await node.execFallback(prepared, error);
          break;
        }
        await sleep(node.retryDelay(attempt + 1));
      }
    }
    await node.cleanup(shared, prepared, result);
    return { kind: "completed", next: nextAfter(shared), consumed };
  } catch (error) {
    return { kind: "failed", error, consumed };
  }
}
