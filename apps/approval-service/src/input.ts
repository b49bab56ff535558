/**
 * Checks of what HTTP clients send. Each failure is an InputError whose
 * message names the field and the form it takes, returned as a 400.
 */
import { type JsonValue, RUN_STATUSES, type RunStatus } from "@wf/core";
import { ANSWERS, type Answer, MAX_AMOUNT } from "./workflow.js";

/** A request the API refuses as malformed: HTTP 400 with this message. */
export class InputError extends Error {
  readonly code = "INVALID_INPUT";
  constructor(message: string) {
    super(message);
    this.name = "InputError";
  }
}

/** A new expense request, as POST /requests takes it. */
export interface ExpenseRequest {
  [key: string]: JsonValue;
  amount: number;
  currency: string;
  requester: string;
  description: string;
}

const REQUEST_FIELDS = ["amount", "currency", "requester", "description"];
const MAX_TEXT = 1_000;

/** Parses a body that must be a JSON object; an empty body counts as `{}` when `emptyOk`. */
export function parseJsonObject(text: string, emptyOk = false): Record<string, unknown> {
  if (text.trim() === "") {
    if (emptyOk) return {};
    throw new InputError(
      'The body must be a JSON object, e.g. {"amount": 120, "requester": "ada"}.',
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InputError(`The body is not JSON: ${(error as Error).message}.`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InputError("The body must be a JSON object.");
  }
  return value as Record<string, unknown>;
}

function refuseUnknown(body: Record<string, unknown>, allowed: readonly string[]): void {
  const unknown = Object.keys(body).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new InputError(
      `Unknown field${unknown.length > 1 ? "s" : ""} ${unknown.map((key) => JSON.stringify(key)).join(", ")}; the fields are ${allowed.join(", ")}.`,
    );
  }
}

/** Text of at most `max` characters without control characters; `undefined` when absent and optional. */
function text(body: Record<string, unknown>, field: string, max: number): string | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
  if (typeof value !== "string" || value.length > max || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new InputError(
      `${field} must be a string of at most ${max} characters without control characters.`,
    );
  }
  return value;
}

/** The body of POST /requests: `{ amount, requester, currency?, description? }`. */
export function parseExpenseRequest(body: Record<string, unknown>): ExpenseRequest {
  refuseUnknown(body, REQUEST_FIELDS);
  const { amount } = body;
  if (
    typeof amount !== "number" ||
    !Number.isFinite(amount) ||
    amount <= 0 ||
    amount > MAX_AMOUNT
  ) {
    throw new InputError(`amount must be a number above 0 and at most ${MAX_AMOUNT}.`);
  }
  if (Math.round(amount * 100) / 100 !== amount) {
    throw new InputError("amount must have at most 2 decimals.");
  }
  const requester = text(body, "requester", 200);
  if (!requester?.trim()) {
    throw new InputError('requester is required: who asks for the money, e.g. "ada".');
  }
  const currency = text(body, "currency", 3) ?? "EUR";
  if (!/^[A-Z]{3}$/.test(currency)) {
    throw new InputError(
      `currency must be a three-letter code like EUR or USD; got ${JSON.stringify(currency)}.`,
    );
  }
  const description = text(body, "description", MAX_TEXT) ?? "";
  return { amount, currency, requester, description };
}

/** The `Idempotency-Key` header: 1-255 visible ASCII characters, or absent. */
export function parseIdempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,255}$/.test(header)) {
    throw new InputError(
      "The Idempotency-Key header must be 1-255 visible ASCII characters (no spaces), e.g. a UUID.",
    );
  }
  return header;
}

/** The body of POST /requests/:runId/answer: `{ "approve": "yes" | "no" }`. */
export function parseAnswer(body: Record<string, unknown>): Answer {
  refuseUnknown(body, ["approve"]);
  const { approve } = body;
  if (typeof approve !== "string" || !(ANSWERS as readonly string[]).includes(approve)) {
    throw new InputError('The body must be {"approve": "yes"} or {"approve": "no"}.');
  }
  return approve as Answer;
}

/** The optional body of POST /requests/:runId/cancel: `{ "reason"?: string }`. */
export function parseCancel(body: Record<string, unknown>): { reason?: string } {
  refuseUnknown(body, ["reason"]);
  const reason = text(body, "reason", MAX_TEXT);
  return reason === undefined ? {} : { reason };
}

export interface ListQuery {
  status?: RunStatus;
  cursor: string | null;
  limit: number;
}

/** Query of GET /requests: `?status=&cursor=&limit=` (limit 1-100, default 20). */
export function parseListQuery(query: Record<string, string | undefined>): ListQuery {
  refuseUnknown(query, ["status", "cursor", "limit"]);
  const { status, cursor, limit } = query;
  if (status !== undefined && !(RUN_STATUSES as readonly string[]).includes(status)) {
    throw new InputError(
      `status must be one of ${RUN_STATUSES.join(", ")}; got ${JSON.stringify(status)}.`,
    );
  }
  return {
    ...(status === undefined ? {} : { status: status as RunStatus }),
    cursor: cursor === undefined || cursor === "" ? null : cursor,
    limit: limit === undefined ? 20 : integer("limit", limit, 1, 100),
  };
}

/** `?timeoutMs=` of GET /requests/:runId/wait: 0-60000, default 30000. */
export function parseWaitQuery(query: Record<string, string | undefined>): { timeoutMs: number } {
  refuseUnknown(query, ["timeoutMs"]);
  const { timeoutMs } = query;
  return {
    timeoutMs: timeoutMs === undefined ? 30_000 : integer("timeoutMs", timeoutMs, 0, 60_000),
  };
}

function integer(name: string, value: string, min: number, max: number): number {
  const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new InputError(
      `${name} must be an integer from ${min} to ${max}; got ${JSON.stringify(value)}.`,
    );
  }
  return parsed;
}
