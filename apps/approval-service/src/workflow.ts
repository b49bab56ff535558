import {
  Node,
  type NodeOptions,
  type RequestInput,
  type StepContext,
  type WorkflowSpec,
} from "@wf/core";
import type { Notification, Notifier, RiskChecker, RiskQuery } from "./services.js";

/** The workflow id every process of the service uses: runs are found by it. */
export const WORKFLOW_ID = "approval";

/** The request id the manager's answer is given under: `{ "approve": "yes" | "no" }`. */
export const APPROVE_REQUEST = "approve";

export const ANSWERS = ["yes", "no"] as const;
export type Answer = (typeof ANSWERS)[number];

/** Largest amount a request may ask for; a bigger one fails validation. */
export const MAX_AMOUNT = 1_000_000;

/** The run's shared state, as journalled after every step. */
export interface ExpenseState {
  [key: string]: unknown;
  amount: number;
  currency: string;
  requester: string;
  description: string;
  risk?: { score: number; level: "low" | "medium" | "high" };
  decision?: "approved" | "rejected";
  notified?: { idempotencyKey: string };
}

/** A run's state that breaks the request rules (a run started by something other than the API). */
export class InvalidExpenseError extends Error {
  readonly code = "INVALID_EXPENSE";
  constructor(message: string) {
    super(`${message} Start a new request with corrected fields.`);
    this.name = "InvalidExpenseError";
  }
}

/** Checks the request again inside the run: the API is not the only way to start one. */
class Validate extends Node<ExpenseState, ExpenseState, number> {
  static readonly type = "Validate";

  override prepare(shared: ExpenseState): ExpenseState {
    return shared;
  }

  override execute(expense: ExpenseState): number {
    const { amount, requester } = expense;
    if (typeof amount !== "number" || !Number.isFinite(amount) || amount <= 0) {
      throw new InvalidExpenseError(`amount must be a positive number, got ${String(amount)}.`);
    }
    if (amount > MAX_AMOUNT) {
      throw new InvalidExpenseError(`amount ${amount} is above the limit of ${MAX_AMOUNT}.`);
    }
    if (typeof requester !== "string" || requester.length === 0) {
      throw new InvalidExpenseError("requester must be a non-empty string.");
    }
    return Math.round(amount * 100) / 100;
  }

  override cleanup(shared: ExpenseState, _expense: ExpenseState, amount: number): void {
    shared.amount = amount;
  }
}

interface RiskCheckOptions extends NodeOptions {
  checker: RiskChecker;
}

/**
 * The slow step: an outside risk check. It passes the step's signal on, so
 * a cancelled run stops waiting for the check at once.
 */
class RiskCheck extends Node<ExpenseState, RiskQuery, number, RiskCheckOptions> {
  static readonly type = "RiskCheck";

  override prepare(shared: ExpenseState): RiskQuery {
    return { amount: shared.amount, currency: shared.currency, requester: shared.requester };
  }

  override execute(query: RiskQuery, context: StepContext): Promise<number> {
    return this.options.checker.score(query, context.signal);
  }

  override cleanup(shared: ExpenseState, _query: RiskQuery, score: number): void {
    shared.risk = { score, level: score >= 70 ? "high" : score >= 40 ? "medium" : "low" };
  }
}

/** Asks a manager; the run waits, holding no worker, until the answer comes. */
class AskManager extends Node<ExpenseState, Answer> {
  static readonly type = "AskManager";

  override async prepare(shared: ExpenseState, requestInput: RequestInput): Promise<Answer> {
    const risk = shared.risk ? `, risk ${shared.risk.level} (${shared.risk.score})` : "";
    const answer = await requestInput<string>(
      `Approve ${shared.amount} ${shared.currency} for ${shared.requester}${risk}? ${shared.description}`.trim(),
      { options: [...ANSWERS], requestId: APPROVE_REQUEST },
    );
    if (!(ANSWERS as readonly string[]).includes(answer)) {
      throw new TypeError(
        `The answer to "${APPROVE_REQUEST}" must be "yes" or "no", got ${JSON.stringify(answer)}.`,
      );
    }
    return answer as Answer;
  }

  override cleanup(shared: ExpenseState, answer: Answer): void {
    shared.decision = answer === "yes" ? "approved" : "rejected";
  }
}

interface NotifyOptions extends NodeOptions {
  notifier: Notifier;
}

/**
 * Tells the requester. The step may run more than once (a worker that dies
 * after sending and before journalling), so every delivery carries the
 * step's idempotency key: the same for every attempt of this step.
 */
class Notify extends Node<ExpenseState, Notification, string, NotifyOptions> {
  static readonly type = "Notify";

  override prepare(shared: ExpenseState, _requestInput: RequestInput, context: StepContext) {
    return {
      runId: context.runId,
      requester: shared.requester,
      amount: shared.amount,
      currency: shared.currency,
      decision: shared.decision ?? "rejected",
    } satisfies Notification;
  }

  override async execute(notification: Notification, context: StepContext): Promise<string> {
    await this.options.notifier.send(notification, context.idempotencyKey, context.signal);
    return context.idempotencyKey;
  }

  override cleanup(shared: ExpenseState, _notification: Notification, key: string): void {
    shared.notified = { idempotencyKey: key };
  }
}

export interface ApprovalServices {
  risk: RiskChecker;
  notifier: Notifier;
}

/**
 * validate → risk → approve (asks a manager) → notify → completed.
 * Every process must build it with the same node ids and types: a worker
 * refuses to resume a run whose journal names nodes it lacks.
 */
export function approvalWorkflow(services: ApprovalServices): WorkflowSpec {
  return {
    workflowId: WORKFLOW_ID,
    nodes: [
      new Validate({ id: "validate" }),
      new RiskCheck({ id: "risk", checker: services.risk, maxRetries: 2, retryDelayMs: 1_000 }),
      new AskManager({ id: APPROVE_REQUEST }),
      new Notify({ id: "notify", notifier: services.notifier, maxRetries: 3, retryDelayMs: 1_000 }),
    ],
    edges: [
      { from: "validate", to: "risk" },
      { from: "risk", to: APPROVE_REQUEST },
      { from: APPROVE_REQUEST, to: "notify" },
    ],
  };
}
