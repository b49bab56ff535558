import type { BytesResult } from "./bytes.js";
import type { ConcurrencyResult } from "./concurrency.js";
import type { BenchResult } from "./measure.js";
import type { PeerResult } from "./peers.js";

const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(3) : "-");
/** `a / b` as `1.23x`, or `-` when it is not a number. */
export const ratio = (a: number, b: number) =>
  Number.isFinite(a / b) && b > 0 ? `${(a / b).toFixed(2)}x` : "-";

/**
 * A plain-text table, times in ms: one row per target; ratios against the raw
 * write timed alongside (at the long history) and against the short history.
 */
export function formatTable(results: BenchResult[]): string {
  const long = results[0]?.longHistory ?? 0;
  const header = [
    "target",
    "step@10",
    `step@${long}`,
    "append@10",
    `append@${long}`,
    "raw@10",
    `raw@${long}`,
    "append/raw",
    "step/raw",
    "append long/short",
    "latest@10",
    `latest@${long}`,
    "long/short",
    "fork@10",
    `fork@${long}`,
    "long/short",
    "bytes/step",
    "req/append",
  ];
  const rows = results.map((r) => [
    r.target,
    ms(r.stepMs.short),
    ms(r.stepMs.long),
    ms(r.appendMs.short),
    ms(r.appendMs.long),
    ms(r.baselineMs.short),
    ms(r.baselineMs.long),
    ratio(r.appendMs.long, r.baselineMs.long),
    ratio(r.stepMs.long, r.baselineMs.long),
    ratio(r.appendMs.long, r.appendMs.short),
    ms(r.latestMs.short),
    ms(r.latestMs.long),
    ratio(r.latestMs.long, r.latestMs.short),
    ms(r.forkMs.short),
    ms(r.forkMs.long),
    ratio(r.forkMs.long, r.forkMs.short),
    String(r.bytesPerStep),
    r.requestsPerStep === null ? "-" : r.requestsPerStep.toFixed(2),
  ]);
  return alignColumns(header, rows);
}

/** Columns right-aligned under their headers, with a rule below the header. */
export function alignColumns(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => (row[i] as string).length)),
  );
  const line = (cells: string[]) =>
    cells.map((cell, i) => cell.padStart(widths[i] as number)).join("  ");
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** A plain-text table of the concurrency measurement: throughput of K runs against K raw writers. */
export function formatConcurrencyTable(results: ConcurrencyResult[]): string {
  const header = ["target", "runs (K)", "pool", "steps/s", "raw writes/s", "steps/raw"];
  const rows = results.map((r) => [
    r.target,
    String(r.runs),
    String(r.connections),
    r.stepsPerSecond.toFixed(0),
    r.rawPerSecond.toFixed(0),
    ratio(r.stepsPerSecond, r.rawPerSecond),
  ]);
  return alignColumns(header, rows);
}

/** The peers' table: ms per step of each system's loop, and how many times @wf's each one takes. */
export function formatPeersTable(results: PeerResult[]): string {
  const header = ["system", "steps", "ms/step", "x @wf"];
  const rows = results.map((r) => {
    const wf = results.find((other) => other.steps === r.steps && other.system.startsWith("@wf"));
    return [
      r.system,
      String(r.steps),
      ms(r.msPerStep),
      wf ? ratio(r.msPerStep, wf.msPerStep) : "-",
    ];
  });
  return alignColumns(header, rows);
}

const bytes = (value: number | null) => (value === null ? "-" : String(value));

/** The bytes table: what each store keeps per step at each state size, beside a delta record. */
export function formatBytesTable(results: BytesResult[]): string {
  const header = ["target", "state", "stored/step", "record", "delta record", "delta saves"];
  const rows = results.map((r) => [
    r.target,
    String(r.stateBytes),
    bytes(r.storedPerStep),
    String(r.recordBytes),
    String(r.deltaBytes),
    `${(100 * (1 - r.deltaBytes / r.recordBytes)).toFixed(1)}%`,
  ]);
  return alignColumns(header, rows);
}
