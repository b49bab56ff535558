import type { BenchResult } from "./measure.js";

const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(3) : "-");
const ratio = (a: number, b: number) =>
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
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => (row[i] as string).length)),
  );
  const line = (cells: string[]) =>
    cells.map((cell, i) => cell.padStart(widths[i] as number)).join("  ");
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
