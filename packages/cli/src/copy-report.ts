/** What `copyJournals` reports: one result per run, totals and progress. */

/**
 * What happened to one run:
 * - `copied`: it was not in the destination and now is, verified;
 * - `resumed`: the destination held the first steps of it (an interrupted copy,
 *   or the source run grew since the last copy); the rest was appended, verified;
 * - `already-copied`: the destination holds it step for step; nothing written;
 * - `conflict`: the destination holds a different run under the same ids (or
 *   it changed while being copied); nothing was written to it;
 * - `damaged-in-source`: the source cannot read it (CORRUPT_RECORD); skipped;
 * - `deleted-in-source`: listed, then deleted before it could be read; skipped;
 * - `verify-failed`: written, but reading the destination back does not give
 *   the source's content hash (a store that changes what it keeps).
 */
export type CopyOutcome =
  | "copied"
  | "resumed"
  | "already-copied"
  | "conflict"
  | "damaged-in-source"
  | "deleted-in-source"
  | "verify-failed";

/** Outcomes that need the user's attention: the copy exits non-zero when one occurs. */
export const PROBLEM_OUTCOMES: readonly CopyOutcome[] = [
  "conflict",
  "damaged-in-source",
  "verify-failed",
];

export interface RunCopyResult {
  workflowId: string;
  runId: string;
  outcome: CopyOutcome;
  /** Records the run stores in the source (from its first stored step to its head); 0 when unreadable. */
  steps: number;
  /** Records written to the destination by this copy (createRun's first record included). */
  stepsCopied: number;
  /**
   * sha256 of the run's journal in the source (metadata and every record in
   * order); the destination gave the same when the outcome is copied, resumed
   * or already-copied. Null when the source could not be read whole.
   */
  sha256: string | null;
  /** Why, for every outcome but copied, resumed and already-copied; null otherwise. */
  reason: string | null;
}

export interface CopyTotals {
  /** Runs looked at (every result). */
  runs: number;
  copied: number;
  resumed: number;
  alreadyCopied: number;
  conflicts: number;
  damaged: number;
  deleted: number;
  verifyFailed: number;
  /** Records the source runs store, summed over the runs looked at. */
  steps: number;
  /** Records written to the destination. */
  stepsCopied: number;
}

export interface CopyReport {
  totals: CopyTotals;
  /** Results whose outcome is a problem (PROBLEM_OUTCOMES) or deleted-in-source, in the order met. */
  problems: RunCopyResult[];
  /** Every result, in the order met, when `collectRuns` was set; else empty (use `onRun` to stream them). */
  runs: RunCopyResult[];
  /** True when the signal stopped the copy: what was written is a prefix a next copy resumes. */
  aborted: boolean;
  durationMs: number;
}

export interface CopyProgress {
  /** `counting` walks the run listings for totals; `copying` copies; `done` once at the end. */
  phase: "counting" | "copying" | "done";
  /** Runs and steps found so far by the counting pass (final once `phase` is `copying`). */
  runsTotal: number;
  stepsTotal: number;
  /** Whether runsTotal and stepsTotal are final (false while counting, or when counting was skipped). */
  totalsKnown: boolean;
  /** Runs finished, whatever their outcome. */
  runsDone: number;
  /** Source steps dealt with: compared with the destination or written to it. */
  stepsDone: number;
  /** Steps written to the destination. */
  stepsCopied: number;
  /** The run being copied, if any. */
  current: { workflowId: string; runId: string } | null;
  elapsedMs: number;
}

export function emptyTotals(): CopyTotals {
  return {
    runs: 0,
    copied: 0,
    resumed: 0,
    alreadyCopied: 0,
    conflicts: 0,
    damaged: 0,
    deleted: 0,
    verifyFailed: 0,
    steps: 0,
    stepsCopied: 0,
  };
}

const TOTAL_OF: Record<CopyOutcome, keyof CopyTotals> = {
  copied: "copied",
  resumed: "resumed",
  "already-copied": "alreadyCopied",
  conflict: "conflicts",
  "damaged-in-source": "damaged",
  "deleted-in-source": "deleted",
  "verify-failed": "verifyFailed",
};

/** Adds one run's result to the totals. */
export function addToTotals(totals: CopyTotals, result: RunCopyResult): void {
  totals.runs += 1;
  totals[TOTAL_OF[result.outcome]] += 1;
  totals.steps += result.steps;
  totals.stepsCopied += result.stepsCopied;
}

/** One line saying what a copy did, for people: "nothing to copy" when it wrote nothing. */
export function summarizeCopy(report: CopyReport): string {
  const { totals } = report;
  const seconds = (report.durationMs / 1000).toFixed(1);
  const parts = [
    `${totals.copied} copied`,
    `${totals.resumed} resumed`,
    `${totals.alreadyCopied} already copied`,
  ];
  if (totals.conflicts) parts.push(`${totals.conflicts} in conflict`);
  if (totals.damaged) parts.push(`${totals.damaged} damaged in the source`);
  if (totals.deleted) parts.push(`${totals.deleted} deleted in the source meanwhile`);
  if (totals.verifyFailed) parts.push(`${totals.verifyFailed} failed verification`);
  const head = report.aborted ? "Copy interrupted" : "Copy done";
  const what =
    totals.runs === totals.alreadyCopied && !report.aborted
      ? `nothing to copy: the destination already holds all ${totals.runs} runs (${totals.steps} steps), verified by step count and sha256`
      : `${totals.runs} runs: ${parts.join(", ")}; ${totals.stepsCopied} of ${totals.steps} steps written, each run verified by step count and sha256`;
  const next = report.aborted ? "; run the same command again to resume" : "";
  return `${head} in ${seconds}s: ${what}${next}.`;
}
