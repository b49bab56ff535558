import type { StoreReport } from "./report.js";

const HEADER = ["section", "measure", "value", "verdict"];

/**
 * One store's table as plain text: a title line, then one row per measure,
 * the section named on its first row only, and the store's failures below
 * (each with the seed that replays it).
 */
export function formatReport(report: StoreReport): string {
  let previous = "";
  const rows = report.rows.map((row) => {
    const section = row.section === previous ? "" : row.section;
    previous = row.section;
    return [section, row.measure, row.value, row.verdict];
  });
  const widths = HEADER.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] as string).length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] as number))
      .join("  ")
      .trimEnd();
  const lines = [
    `== ${report.title}: ${report.passed ? "passed" : "FAILED"} ==`,
    `   ${report.where}`,
    line(HEADER),
    line(widths.map((width) => "-".repeat(width))),
    ...rows.map(line),
  ];
  if (report.failures.length > 0) {
    lines.push("", `failures (${report.failures.length}):`);
    for (const failure of report.failures) {
      lines.push(`- ${failure.section}, seed ${failure.seed}: ${failure.detail}`);
    }
  }
  return lines.join("\n");
}
