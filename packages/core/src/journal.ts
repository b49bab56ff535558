/** Shapes of what the journal stores: step records and run metadata. */

export const JOURNAL_FORMAT_VERSION = 1;

/**
 * A run's status, as its head record says. `completed` and `cancelled` end
 * a run; `failed` and `waiting_for_input` stop it until it is retried or
 * answered. A cancelled run can still be forked or resumed from an earlier step.
 */
export type RunStatus = "running" | "waiting_for_input" | "completed" | "failed" | "cancelled";

export const RUN_STATUSES: readonly RunStatus[] = [
  "running",
  "waiting_for_input",
  "completed",
  "failed",
  "cancelled",
];

/** What a node did the last time it ran on this timeline. */
export type NodeStatus = "completed" | "failed" | "waiting";

/** Any value JSON can carry faithfully. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

export interface InputRequest {
  nodeId: string;
  /** Key the answer must be given under: `step({ [requestId]: answer })`. */
  requestId: string;
  prompt: string;
  options: JsonValue[] | null;
}

export interface RecordedError {
  name: string;
  message: string;
  /** The error's `code` property, when it had one. */
  code: string | null;
  nodeId: string | null;
  stack: string | null;
  /**
   * When the failed node runs again (UTC ISO-8601), on a failed record whose
   * retry was scheduled (a worker's delayed job); absent otherwise. The run
   * reads `failed` until then.
   */
  retryAt?: string;
}

export interface StepRecord {
  formatVersion: number;
  workflowId: string;
  runId: string;
  /** Position in the run's append order: 0, 1, 2, … */
  step: number;
  /** Step this one continues from; null for step 0. Differs from step - 1 after a resume from an earlier step. */
  parent: number | null;
  /** UTC ISO-8601 time the record was made. */
  createdAt: string;
  /** Run status after this step. */
  status: RunStatus;
  nodeStatuses: Record<string, NodeStatus>;
  /** Type name of every node in `nodeStatuses`, checked when resuming. */
  nodeTypes: Record<string, string>;
  /** Full snapshot of the shared state after this step (encoded by the codec, if any). */
  shared: JsonValue;
  /** Node whose run produced this record; null for step 0. */
  previousNodeId: string | null;
  /** Node to run next; null when the run is completed. */
  nextNodeId: string | null;
  awaitingInput: InputRequest | null;
  /** Answers the node that produced this record was given (so far, when waiting). */
  inputs: Record<string, JsonValue>;
  /** Why the run failed (`failed`), or why it was cancelled (`cancelled`, code `CANCELLED`); null otherwise. */
  error: RecordedError | null;
}

export interface DefinitionFingerprint {
  start: string;
  nodes: { id: string; type: string }[];
  edges: { from: string; to: string; conditional: boolean }[];
  /** sha256 of the canonical JSON of the fields above. */
  hash: string;
}

export interface ForkOrigin {
  runId: string;
  step: number;
}

export interface RunMetadata {
  formatVersion: number;
  workflowId: string;
  runId: string;
  createdAt: string;
  updatedAt: string;
  /** Mirrors the head record's status. */
  status: RunStatus;
  /** Highest step number appended; the next append must be headStep + 1. */
  headStep: number;
  forkedFrom: ForkOrigin | null;
  definition: DefinitionFingerprint;
}

/** The metadata a run has right after `record` was appended to it. */
export function advanceRunMetadata(run: RunMetadata, record: StepRecord): RunMetadata {
  return { ...run, headStep: record.step, status: record.status, updatedAt: record.createdAt };
}
