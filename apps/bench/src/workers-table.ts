import { alignColumns, ratio } from "./table.js";
import type { RecoveryResult, ThroughputResult, WorkersOptions, WorkersReport } from "./workers.js";
import { RECOVERY_HELD_RUNS, STEPS_PER_JOB } from "./workers.js";

const whole = (value: number) => (Number.isFinite(value) ? value.toFixed(0) : "-");

/** Steps per second through N worker processes, beside the same runs advanced in one process. */
export function formatThroughputTable(results: readonly ThroughputResult[]): string {
  const header = [
    "backend",
    "workers",
    "runs at once",
    "steps/s",
    "in-process steps/s",
    "workers/in-process",
  ];
  const rows = results.map((r) => [
    r.label,
    String(r.workers),
    String(r.runsAtOnce),
    whole(r.stepsPerSecond),
    whole(r.inProcessStepsPerSecond),
    ratio(r.stepsPerSecond, r.inProcessStepsPerSecond),
  ]);
  return alignColumns(header, rows);
}

/** Time from a worker's SIGKILL until each run it held had a step appended by another worker. */
export function formatRecoveryTable(results: readonly RecoveryResult[]): string {
  const header = [
    "backend",
    "lease s",
    "check s",
    "runs held",
    "median ms",
    "max ms",
    "rounds repeated",
  ];
  const rows = results.map((r) => [
    r.label,
    String(r.leaseSeconds),
    String(r.checkSeconds),
    String(r.heldRuns),
    whole(r.medianMs),
    whole(r.maxMs),
    String(r.roundsRepeated),
  ]);
  return alignColumns(header, rows);
}

/** Both tables with the notes that say what was measured, as printed on stdout. */
export function formatWorkersReport(
  report: WorkersReport,
  options: Pick<WorkersOptions, "runs" | "steps" | "rounds" | "concurrency">,
): string {
  const parts: string[] = [];
  if (report.throughput.length > 0) {
    parts.push(
      formatThroughputTable(report.throughput),
      "",
      `Workload: ${options.runs} runs of ${report.workload}.`,
      "steps/s: runs x nodes over the time from the first start to the last completion, median of",
      `${options.rounds} round(s); the runs are started at once through WorkflowClient, and each worker process runs`,
      `${options.concurrency} job(s) at once, ${STEPS_PER_JOB} steps per job. in-process: the same number of runs, as many at once,`,
      "created and run to completion by WorkflowEngine in the bench's own process on the same store, in turn with",
      "the workers. PostgreSQL pools hold one connection per run at once; Redis has one client per process.",
    );
  }
  if (report.recovery.length > 0) {
    if (parts.length > 0) parts.push("");
    parts.push(
      formatRecoveryTable(report.recovery),
      "",
      `Once per round a worker process holding ${RECOVERY_HELD_RUNS} runs inside a node is SIGKILLed while another stands`,
      "by: ms from the kill until each held run had a new step appended by the other worker, over every round.",
      "Short leases so that the bench finishes (both bindings default to 30 s):",
      ...report.recovery.map((r) => `  ${r.label}: ${r.settings}`),
    );
  }
  return parts.join("\n");
}
