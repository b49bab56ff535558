/**
 * Time travel. Every action builds an engine with `WorkflowEngine.create`, so
 * it gets the same validation as the API: a resume that the journal cannot
 * continue is refused with INCOMPATIBLE_STATE ("Cannot resume: …"), an answer
 * to a question that is not pending with UNEXPECTED_INPUT. A resume from an
 * earlier step appends a branch; nothing is ever overwritten.
 */

import {
  assertValidRequestId,
  type JsonValue,
  WorkflowEngine,
  type WorkflowSpec,
  type WorkflowStorage,
} from "@wf/core";
import type { ActionRequest, ActionResult } from "./api-types.js";

const ACTIONS: readonly ActionRequest["action"][] = ["step", "run", "fork", "answer"];

/** The request body as an ActionRequest; TypeError naming what is wrong otherwise. */
export function parseActionRequest(body: unknown): ActionRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new TypeError("The request body must be a JSON object { action, step, … }.");
  }
  const { action, step, requestId, answer } = body as Record<string, unknown>;
  if (!ACTIONS.includes(action as ActionRequest["action"])) {
    throw new TypeError(
      `action must be one of ${ACTIONS.join(", ")}, got ${JSON.stringify(action)}.`,
    );
  }
  if (typeof step !== "number" || !Number.isSafeInteger(step) || step < 0) {
    throw new RangeError(`step must be a non-negative integer, got ${JSON.stringify(step)}.`);
  }
  if (action !== "answer") return { action: action as ActionRequest["action"], step };
  assertValidRequestId(requestId, "requestId");
  if (answer === undefined) throw new TypeError("An answer needs `answer` (any JSON value).");
  return { action: "answer", step, requestId, answer: answer as JsonValue };
}

/**
 * Steps one Run (or Answer) action takes at most: a workflow that loops for
 * ever must not hold the request, and the journal, for ever. Run again to go on.
 */
export const RUN_STEP_LIMIT = 1_000;

export async function runAction(
  storage: WorkflowStorage,
  definition: WorkflowSpec,
  runId: string,
  request: ActionRequest,
): Promise<ActionResult> {
  const engine = await WorkflowEngine.create({
    ...definition,
    storage,
    runId,
    resumeFrom: request.step,
    ...(request.action === "fork" ? { fork: true } : {}),
  });
  let input: Record<string, JsonValue> | undefined =
    request.action === "answer"
      ? { [request.requestId as string]: request.answer as JsonValue }
      : undefined;
  const budget = request.action === "step" ? 1 : RUN_STEP_LIMIT;
  let more = true;
  for (let steps = 0; more && steps < budget; steps++) {
    more = await engine.step(input);
    input = undefined;
  }
  return {
    runId: engine.runId,
    status: engine.status,
    headStep: engine.headStep,
    currentStep: engine.currentStep,
    stoppedAtLimit: more && request.action !== "step",
  };
}
