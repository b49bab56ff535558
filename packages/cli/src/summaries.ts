import type { ForkOrigin, RunMetadata, RunStatus, StepRecord } from "@wf/core";
import type { TimelineEntry } from "./journal-read.js";
import { type Cell, type Column, type Output, STATUS_COLOUR, shortTime } from "./output.js";

/** A run as `wf runs --json` prints it. */
export interface RunSummary {
  runId: string;
  status: RunStatus;
  headStep: number;
  createdAt: string;
  updatedAt: string;
  forkedFrom: ForkOrigin | null;
}

export function runSummary(run: RunMetadata): RunSummary {
  const { runId, status, headStep, createdAt, updatedAt, forkedFrom } = run;
  return { runId, status, headStep, createdAt, updatedAt, forkedFrom };
}

/** A step as `wf steps --json` (and resume, fork, answer) print it. */
export interface StepSummary {
  step: number;
  parent: number | null;
  /** The run that stores the record: a fork's source below the fork point. */
  storedIn: string;
  /** Node whose run produced the step; null for step 0. */
  node: string | null;
  next: string | null;
  status: RunStatus;
  createdAt: string;
  superseded: boolean;
  /** Request id of the question the run waits on after this step. */
  waitingFor: string | null;
  /** `name: message` of a failed step's error (a cancel step's too: the journal keeps its reason there). */
  error: string | null;
  /** Why the run was cancelled, on a cancel step; null on every other step. */
  reason: string | null;
}

export function stepSummary(entry: TimelineEntry): StepSummary {
  const { record } = entry;
  return {
    step: record.step,
    parent: record.parent,
    storedIn: entry.storedIn,
    node: record.previousNodeId,
    next: record.nextNodeId,
    status: record.status,
    createdAt: record.createdAt,
    superseded: entry.superseded,
    waitingFor: record.awaitingInput?.requestId ?? null,
    error: record.error ? `${record.error.name}: ${record.error.message}` : null,
    reason: record.status === "cancelled" ? (record.error?.message ?? "") : null,
  };
}

export function statusCell(status: string): Cell {
  const colour = STATUS_COLOUR[status];
  return colour ? { text: status, colour } : status;
}

export function forkCell(forkedFrom: ForkOrigin | null): string {
  return forkedFrom ? `${forkedFrom.runId}@${forkedFrom.step}` : "";
}

export const RUN_COLUMNS: Column[] = [
  { header: "RUN", shrink: true },
  { header: "STATUS" },
  { header: "HEAD", right: true },
  { header: "CREATED" },
  { header: "UPDATED" },
  { header: "FORKED FROM", shrink: true },
];

export function runRow(run: RunSummary): Cell[] {
  return [
    run.runId,
    statusCell(run.status),
    String(run.headStep),
    shortTime(run.createdAt),
    shortTime(run.updatedAt),
    forkCell(run.forkedFrom),
  ];
}

const STEP_COLUMNS: Column[] = [
  { header: "STEP", right: true },
  { header: "PARENT", right: true },
  { header: "NODE" },
  { header: "STATUS" },
  { header: "NEXT" },
  { header: "CREATED" },
  { header: "NOTE", shrink: true },
];

/** What the NOTE column says of a step. */
function stepNote(summary: StepSummary, runId: string): string {
  const notes: string[] = [];
  if (summary.superseded) notes.push("superseded");
  if (summary.storedIn !== runId) notes.push(`from ${summary.storedIn}`);
  if (summary.waitingFor) notes.push(`waiting for ${summary.waitingFor}`);
  if (summary.reason !== null) notes.push(`cancelled: ${summary.reason}`);
  else if (summary.error) notes.push(summary.error);
  return notes.join("; ");
}

/** Prints steps as a table, or as JSON in `{ workflowId, runId, steps }`. */
export function printSteps(
  out: Output,
  json: boolean,
  header: { workflowId: string; runId: string } & Record<string, unknown>,
  steps: readonly StepSummary[],
): void {
  if (json) {
    out.json({ ...header, steps });
    return;
  }
  out.table(
    STEP_COLUMNS,
    steps.map((summary) => {
      const row: Cell[] = [
        String(summary.step),
        summary.parent === null ? "-" : String(summary.parent),
        summary.node ?? (summary.status === "cancelled" ? "(cancel)" : "(start)"),
        statusCell(summary.status),
        summary.next ?? "-",
        shortTime(summary.createdAt),
        stepNote(summary, header.runId),
      ];
      return summary.superseded
        ? row.map((cell) => ({
            text: typeof cell === "string" ? cell : cell.text,
            colour: "dim" as const,
          }))
        : row;
    }),
  );
}

/** A record's one-line description, for messages. */
export function describeStep(record: StepRecord): string {
  const node = record.previousNodeId ?? (record.status === "cancelled" ? "cancel" : "start");
  return `step ${record.step} (${node} → ${record.nextNodeId ?? "end"}, ${record.status})`;
}
