/**
 * Time travel. Every action builds an engine with `WorkflowEngine.create`, so
 * it gets the same validation as the API: a resume that the journal cannot
 * continue is refused with INCOMPATIBLE_STATE ("Cannot resume: …"), an answer
 * to a question that is not pending with UNEXPECTED_INPUT. A resume from an
 * earlier step appends a branch; nothing is ever overwritten.
 */

import type { WorkflowSpec } from "@wf/core";
import {
  assertValidRequestId,
  type JsonValue,
  WorkflowEngine,
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
  if (request.action === "step") await engine.step();
  else if (request.action === "run") await engine.run();
  else if (request.action === "answer") {
    await engine.run({ [request.requestId as string]: request.answer });
  }
  return {
    runId: engine.runId,
    status: engine.status,
    headStep: engine.headStep,
    currentStep: engine.currentStep,
  };
}
