/**
 * How step records are made: the first record of a run, the record a step
 * appends, and a fork's first record. Pure functions of their arguments, so
 * what a step journals can be read (and tested) apart from the engine.
 */
import {
  type InputRequest,
  JOURNAL_FORMAT_VERSION,
  type JsonValue,
  type RecordedError,
  type StepRecord,
} from "./journal.js";

/** Step 0 of a new run: running, no parent, nothing run yet, `start` next. */
export function firstRecord(run: {
  workflowId: string;
  runId: string;
  createdAt: string;
  /** The initial state, as the journal stores it. */
  shared: JsonValue;
  start: string;
}): StepRecord {
  return {
    formatVersion: JOURNAL_FORMAT_VERSION,
    workflowId: run.workflowId,
    runId: run.runId,
    step: 0,
    parent: null,
    createdAt: run.createdAt,
    status: "running",
    nodeStatuses: {},
    nodeTypes: {},
    shared: run.shared,
    previousNodeId: null,
    nextNodeId: run.start,
    awaitingInput: null,
    inputs: {},
    error: null,
  };
}

/** Which step a node ran as, in which run, and with what. */
export interface StepTaken {
  workflowId: string;
  /**
   * The run appended to. Not always the base's: a fork resumed from a step
   * before its fork point continues from a record of its source.
   */
  runId: string;
  /** The number the record gets: the run's head + 1. */
  step: number;
  createdAt: string;
  nodeId: string;
  /** The node's type name, kept so a resume can check it. */
  nodeType: string;
  /** Answers the node was given. */
  inputs: Record<string, JsonValue>;
}

/**
 * How the node ended, with the state the record keeps: the state after the
 * node when it completed; otherwise the state before it, since a failed or
 * waiting node runs again from there.
 */
export type RecordOutcome =
  | { kind: "completed"; shared: JsonValue; next: string | null }
  | { kind: "waiting"; shared: JsonValue; request: InputRequest }
  | { kind: "failed"; shared: JsonValue; error: RecordedError };

/** The record of a step that continues from `base` (the head, or step k after a resume from k). */
export function nextRecord(base: StepRecord, taken: StepTaken, outcome: RecordOutcome): StepRecord {
  const { nodeId } = taken;
  const nodeStatus =
    outcome.kind === "completed" ? "completed" : outcome.kind === "waiting" ? "waiting" : "failed";
  const status =
    outcome.kind === "completed"
      ? outcome.next === null
        ? "completed"
        : "running"
      : outcome.kind === "waiting"
        ? "waiting_for_input"
        : "failed";
  return {
    formatVersion: JOURNAL_FORMAT_VERSION,
    workflowId: taken.workflowId,
    runId: taken.runId,
    step: taken.step,
    parent: base.step,
    createdAt: taken.createdAt,
    status,
    nodeStatuses: { ...base.nodeStatuses, [nodeId]: nodeStatus },
    nodeTypes: { ...base.nodeTypes, [nodeId]: taken.nodeType },
    shared: outcome.shared,
    previousNodeId: nodeId,
    // A failed or waiting node is the one to run again.
    nextNodeId: outcome.kind === "completed" ? outcome.next : nodeId,
    awaitingInput: outcome.kind === "waiting" ? outcome.request : null,
    inputs: taken.inputs,
    error: outcome.kind === "failed" ? outcome.error : null,
  };
}

/** The `code` of the error a cancel record carries. */
export const CANCELLED_CODE = "CANCELLED";

/**
 * The record that cancels a run standing on `base` (its head): the state
 * and node statuses of `base`, status `cancelled`, and the reason as its
 * error (name `RunCancelled`, code `CANCELLED`). `nextNodeId` keeps the node
 * that would have run next, so readers can tell what was cut short.
 */
export function cancelRecord(
  base: StepRecord,
  taken: { workflowId: string; runId: string; step: number; createdAt: string; reason: string },
): StepRecord {
  return {
    formatVersion: JOURNAL_FORMAT_VERSION,
    workflowId: taken.workflowId,
    runId: taken.runId,
    step: taken.step,
    parent: base.step,
    createdAt: taken.createdAt,
    status: "cancelled",
    nodeStatuses: { ...base.nodeStatuses },
    nodeTypes: { ...base.nodeTypes },
    shared: base.shared,
    previousNodeId: null,
    nextNodeId: base.nextNodeId,
    awaitingInput: null,
    inputs: {},
    error: {
      name: "RunCancelled",
      message: taken.reason,
      code: CANCELLED_CODE,
      nodeId: base.nextNodeId,
      stack: null,
    },
  };
}

/** A fork's first record: the source's record, unchanged but for the new run id and time. */
export function forkRecord(source: StepRecord, runId: string, createdAt: string): StepRecord {
  return { ...source, runId, createdAt };
}

/** How the journal keeps a thrown value: an Error's name, message, `code` and stack. */
export function toRecordedError(error: unknown, nodeId: string): RecordedError {
  const err = error instanceof Error ? error : new Error(String(error));
  const code = (err as { code?: unknown }).code;
  return {
    name: err.name,
    message: err.message,
    code: typeof code === "string" ? code : null,
    nodeId,
    stack: err.stack ?? null,
  };
}

/** An Error standing for a recorded one, for `engine.error` on a run read from the journal. */
export function errorFromRecord(recorded: RecordedError): Error {
  const error = new Error(recorded.message);
  error.name = recorded.name;
  if (recorded.code !== null) Object.assign(error, { code: recorded.code });
  return error;
}
