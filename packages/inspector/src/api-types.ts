/**
 * The JSON the inspector's server sends its page. The page imports these
 * types (type-only), so server and page cannot drift apart.
 */
import type { JsonValue, RunMetadata, RunStatus, StepRecord } from "@wf/core";

/** What the timeline shows of one step, without its state. */
export interface StepSummary {
  step: number;
  parent: number | null;
  /** Run that stores the record: the run itself, or a fork's source below the fork point. */
  ownerRunId: string;
  createdAt: string;
  status: RunStatus;
  previousNodeId: string | null;
  nextNodeId: string | null;
  prompt: string | null;
  errorMessage: string | null;
}

/** A timeline row that could not be read (a fork whose source was deleted, a damaged record). */
export interface MissingStep {
  step: number;
  missing: string;
}

export type TimelineRow = StepSummary | MissingStep;

export interface StepRange {
  from: number;
  to: number;
  rows: TimelineRow[];
}

/** Why time travel is unavailable for a run, or null when it is available. */
export interface ActionAvailability {
  available: boolean;
  reason: string | null;
}

export interface RunView {
  run: RunMetadata;
  head: StepSummary;
  /** The head step in full, so that opening a run takes one request before the timeline. */
  headView: StepView;
  /** The fork chain, nearest source first: each run this one was forked from, and at which step. */
  lineage: { runId: string; step: number; missing: boolean }[];
  actions: ActionAvailability;
}

/** One change between two states, as microdiff reports it. */
export interface StateChange {
  type: "CREATE" | "REMOVE" | "CHANGE";
  path: (string | number)[];
  value?: JsonValue;
  oldValue?: JsonValue;
}

export interface StepView {
  record: StepRecord;
  ownerRunId: string;
  /** The step this one continues from on its timeline (its parent), or null for step 0. */
  previousStep: number | null;
  /** Changes from the parent's state to this step's state. */
  changes: StateChange[];
}

/**
 * Which steps are on the timeline that ends at the head, from a scan of the
 * run's records. Steps outside `onTimeline` were superseded by a resume from
 * an earlier step.
 */
export interface BranchView {
  headStep: number;
  /** Steps whose parent is not the step before them: each starts a branch. */
  branchStarts: { step: number; parent: number | null }[];
  /** Inclusive ranges of step numbers on the head's timeline, ascending. */
  onTimeline: [number, number][];
  /** Runs of this workflow forked from this run, among the newest runs scanned. */
  forks: { runId: string; step: number }[];
}

export interface RunsView {
  items: RunMetadata[];
  nextCursor: string | null;
  damaged: { runId: string; reason: string }[];
  /** Set when the listing is a search: what was searched and how far. */
  search: { query: string; scanned: number; complete: boolean } | null;
}

export interface StatusCounts {
  total: number;
  byStatus: Record<RunStatus, number>;
  /** False when the workflow has more runs than a count reads; the counts are then lower bounds. */
  complete: boolean;
}

export interface DiffView {
  a: { runId: string; step: number };
  b: { runId: string; step: number };
  changes: StateChange[];
}

export interface ActionRequest {
  action: "step" | "run" | "fork" | "answer";
  step: number;
  /** For "answer": the pending question's request id and the answer. */
  requestId?: string;
  answer?: JsonValue;
}

export interface ActionResult {
  runId: string;
  status: RunStatus;
  headStep: number;
  /** Step the engine stands on after the action. */
  currentStep: number;
  /** A Run or Answer stopped after RUN_STEP_LIMIT steps while the run could go on. */
  stoppedAtLimit: boolean;
}

/** The body of a cancel (POST …/runs/:run/cancel). */
export interface CancelRequest {
  /** Kept in the cancel step; the inspector's default when left out or blank. */
  reason?: string;
}

export interface CancelResult {
  runId: string;
  /** Always true: a run that had ended already is answered with 409 NOT_CANCELLABLE. */
  cancelled: true;
  status: RunStatus;
  /** The cancel step. */
  headStep: number;
}

export interface ApiError {
  error: { code: string; name: string; message: string };
}
