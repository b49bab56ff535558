/**
 * Every step record and run metadata read from a store passes through these
 * checks before anything uses it, so a damaged record is reported as
 * CORRUPT_RECORD at its location instead of steering a run. They check the
 * journal format's fields and types, the enums, and that the record is the
 * one that was asked for (its workflow, run and step number). They do not walk
 * the shared state: what JSON parsed is JSON.
 */
import { CorruptRecordError } from "./errors.js";
import { isValidId } from "./ids.js";
import {
  JOURNAL_FORMAT_VERSION,
  type NodeStatus,
  RUN_STATUSES,
  type RunMetadata,
  type RunStatus,
  type StepRecord,
} from "./journal.js";

/** What the reader asked for; every field given must match the record. */
export interface ExpectedRecord {
  workflowId?: string;
  runId?: string;
  step?: number;
}

const NODE_STATUSES: readonly NodeStatus[] = ["completed", "failed", "waiting"];

type Fields = Record<string, unknown>;

/** Thrown inside a check with the reason; the caller adds the location. */
class Problem extends Error {}

function problem(reason: string): never {
  throw new Problem(reason);
}

function isPlainObject(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function object(fields: Fields, name: string): Fields {
  const value = fields[name];
  if (!isPlainObject(value)) problem(`"${name}" is ${describe(value)}, not an object`);
  return value;
}

function string(fields: Fields, name: string): string {
  const value = fields[name];
  if (typeof value !== "string") problem(`"${name}" is ${describe(value)}, not a string`);
  return value;
}

function nullableString(fields: Fields, name: string): string | null {
  const value = fields[name];
  if (value !== null && typeof value !== "string") {
    problem(`"${name}" is ${describe(value)}, not a string or null`);
  }
  return value;
}

function stepNumber(fields: Fields, name: string): number {
  const value = fields[name];
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    problem(`"${name}" is ${describe(value)}, not a step number`);
  }
  return value;
}

function id(fields: Fields, name: string): string {
  const value = string(fields, name);
  if (!isValidId(value))
    problem(`"${name}" ${JSON.stringify(String(value).slice(0, 64))} is not a valid id`);
  return value;
}

function nullableId(fields: Fields, name: string): string | null {
  return fields[name] === null ? null : id(fields, name);
}

function time(fields: Fields, name: string): string {
  const value = string(fields, name);
  if (Number.isNaN(Date.parse(value))) problem(`"${name}" is not a time: ${JSON.stringify(value)}`);
  return value;
}

function runStatus(fields: Fields): RunStatus {
  const value = fields.status;
  if (!RUN_STATUSES.includes(value as RunStatus)) {
    problem(`"status" is ${describe(value)}, not one of ${RUN_STATUSES.join(", ")}`);
  }
  return value as RunStatus;
}

function formatVersion(fields: Fields): void {
  const value = fields.formatVersion;
  if (value === JOURNAL_FORMAT_VERSION) return;
  if (typeof value === "number" && value > JOURNAL_FORMAT_VERSION) {
    problem(
      `it is in journal format ${value}, newer than this version of @wf/core reads (${JOURNAL_FORMAT_VERSION}); upgrade @wf/core`,
    );
  }
  problem(`"formatVersion" is ${describe(value)}, not ${JOURNAL_FORMAT_VERSION}`);
}

function describe(value: unknown): string {
  if (value === undefined) return "missing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}

function matches(fields: Fields, expected: ExpectedRecord): void {
  for (const name of ["workflowId", "runId", "step"] as const) {
    const want = expected[name];
    if (want !== undefined && fields[name] !== want) {
      problem(
        `it holds ${name} ${JSON.stringify(fields[name])} where ${JSON.stringify(want)} belongs`,
      );
    }
  }
}

function checkStepFields(fields: Fields, expected: ExpectedRecord): void {
  formatVersion(fields);
  id(fields, "workflowId");
  id(fields, "runId");
  const step = stepNumber(fields, "step");
  matches(fields, expected);
  if (fields.parent !== null) {
    const parent = stepNumber(fields, "parent");
    if (parent >= step) problem(`"parent" ${parent} is not below its step ${step}`);
  }
  time(fields, "createdAt");
  const status = runStatus(fields);
  const nodeStatuses = object(fields, "nodeStatuses");
  for (const [nodeId, nodeStatus] of Object.entries(nodeStatuses)) {
    if (!isValidId(nodeId)) problem(`"nodeStatuses" has a key that is not a node id`);
    if (!NODE_STATUSES.includes(nodeStatus as NodeStatus)) {
      problem(
        `"nodeStatuses.${nodeId}" is ${describe(nodeStatus)}, not one of ${NODE_STATUSES.join(", ")}`,
      );
    }
  }
  for (const [nodeId, type] of Object.entries(object(fields, "nodeTypes"))) {
    if (typeof type !== "string")
      problem(`"nodeTypes.${nodeId}" is ${describe(type)}, not a string`);
  }
  object(fields, "shared");
  nullableId(fields, "previousNodeId");
  nullableId(fields, "nextNodeId");
  object(fields, "inputs");
  const awaiting = fields.awaitingInput;
  if (awaiting !== null) {
    const request = object(fields, "awaitingInput");
    id(request, "nodeId");
    string(request, "requestId");
    string(request, "prompt");
    if (request.options !== null && !Array.isArray(request.options)) {
      problem(`"awaitingInput.options" is ${describe(request.options)}, not an array or null`);
    }
  }
  if ((status === "waiting_for_input") !== (awaiting !== null)) {
    problem(`"status" is ${status} but "awaitingInput" is ${describe(awaiting)}`);
  }
  const error = fields.error;
  if (error !== null) {
    const recorded = object(fields, "error");
    string(recorded, "name");
    string(recorded, "message");
    nullableString(recorded, "code");
    nullableString(recorded, "nodeId");
    nullableString(recorded, "stack");
    if (recorded.retryAt !== undefined) {
      if (status !== "failed") problem(`"error.retryAt" is set on a ${status} record`);
      time(recorded, "retryAt");
    }
  }
  // A failed record says why it failed, a cancelled one why it was cancelled; no other has an error.
  if ((status === "failed" || status === "cancelled") !== (error !== null)) {
    problem(`"status" is ${status} but "error" is ${describe(error)}`);
  }
}

function checkRunFields(fields: Fields, expected: ExpectedRecord): void {
  formatVersion(fields);
  id(fields, "workflowId");
  id(fields, "runId");
  matches(fields, expected);
  time(fields, "createdAt");
  time(fields, "updatedAt");
  runStatus(fields);
  stepNumber(fields, "headStep");
  if (fields.forkedFrom !== null) {
    const origin = object(fields, "forkedFrom");
    id(origin, "runId");
    stepNumber(origin, "step");
  }
  const definition = object(fields, "definition");
  id(definition, "start");
  string(definition, "hash");
  if (!Array.isArray(definition.nodes) || !Array.isArray(definition.edges)) {
    problem(`"definition" lacks its "nodes" or "edges" list`);
  }
}

function checked<T>(
  value: unknown,
  location: string,
  kind: string,
  check: (fields: Fields) => void,
): T {
  try {
    if (!isPlainObject(value)) problem(`it is ${describe(value)}, not a ${kind} object`);
    check(value);
  } catch (error) {
    if (error instanceof Problem) throw new CorruptRecordError(location, error.message);
    throw error;
  }
  return value as T;
}

/**
 * Returns `value` as a StepRecord if it is one, and the one asked for;
 * otherwise throws CORRUPT_RECORD naming `location` (a file path, a table and
 * key, a Redis key, an S3 key). Call it on every step record read back.
 */
export function checkStepRecord(
  value: unknown,
  location: string,
  expected: ExpectedRecord = {},
): StepRecord {
  return checked(value, location, "step record", (fields) => checkStepFields(fields, expected));
}

/** As `checkStepRecord`, for run metadata. */
export function checkRunMetadata(
  value: unknown,
  location: string,
  expected: Omit<ExpectedRecord, "step"> = {},
): RunMetadata {
  return checked(value, location, "run metadata", (fields) => checkRunFields(fields, expected));
}

/**
 * `JSON.parse` of a stored record's text, with CORRUPT_RECORD naming
 * `location` when it is not JSON. JSON.parse keeps keys like `__proto__` as
 * data, unlike assignment, which is why records are never rebuilt by hand.
 */
export function parseRecordJson(text: string, location: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new CorruptRecordError(location, `it is not valid JSON (${(error as Error).message})`, {
      cause: error,
    });
  }
}
