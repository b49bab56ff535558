// The benchmark script runs end to end on small numbers and reports every
// column; it measures, it does not judge (no thresholds here).
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { median } from "../src/stats.js";
import { formatTable } from "../src/table.js";

const main = fileURLToPath(new URL("../dist/main.js", import.meta.url));

describe("bench", () => {
  it("median takes the middle value, or the mean of the two middle values", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it("--json reports memory and fs with every measurement, and progress goes to stderr", () => {
    const result = spawnSync(
      process.execPath,
      [
        main,
        "--targets",
        "memory,fs",
        "--history",
        "40",
        "--samples",
        "5",
        "--lookups",
        "3",
        "--concurrency",
        "4",
        "--rounds",
        "2",
        "--bytes",
        "1024,4096",
        "--json",
      ],
      { encoding: "utf8", timeout: 60_000 },
    );
    expect(result.status).toBe(0);
    expect(result.stderr).toContain("fs: history 40/40");
    const report = JSON.parse(result.stdout) as {
      results: Record<string, unknown>[];
      concurrency: Record<string, unknown>[];
      bytes: Record<string, unknown>[];
      peers: unknown[];
      failures: unknown[];
    };
    expect(report.failures).toEqual([]);
    expect(report.results.map((r) => r.target)).toEqual(["memory", "fs"]);
    for (const row of report.results) {
      expect(row).toMatchObject({
        longHistory: 40,
        stepMs: { short: expect.any(Number), long: expect.any(Number) },
        latestMs: { short: expect.any(Number), long: expect.any(Number) },
        forkMs: { short: expect.any(Number), long: expect.any(Number) },
        baselineMs: { short: expect.any(Number), long: expect.any(Number) },
        appendMs: { short: expect.any(Number), long: expect.any(Number) },
      });
      expect(row.bytesPerStep).toBeGreaterThan(1024);
    }
    // K runs at once against K raw writers, per target.
    expect(report.concurrency).toEqual(
      ["memory", "fs"].map((target) => ({
        target,
        runs: 4,
        connections: 10,
        stepsPerSecond: expect.any(Number),
        rawPerSecond: expect.any(Number),
      })),
    );
    // Bytes per step at each state size, per target; fs can tell what it keeps, memory cannot.
    expect(report.bytes.map((row) => [row.target, row.stateBytes])).toEqual([
      ["memory", 1024],
      ["memory", 4096],
      ["fs", 1024],
      ["fs", 4096],
    ]);
    for (const row of report.bytes) {
      const { recordBytes, deltaBytes, storedPerStep } = row as Record<string, number | null>;
      expect(recordBytes).toBeGreaterThan(row.stateBytes as number);
      // The delta leaves the unchanged payload out.
      expect(deltaBytes).toBeLessThanOrEqual((recordBytes as number) - (row.stateBytes as number));
      if (row.target === "fs") expect(storedPerStep).toBeGreaterThan(row.stateBytes as number);
      else expect(storedPerStep).toBeNull();
    }
    // The peers run on PostgreSQL, which these targets do not include.
    expect(report.peers).toEqual([]);
    const table = formatTable(report.results as never);
    expect(table.split("\n")[0]).toContain("append/raw");
    expect(table).toMatch(/\n\s+fs\s/);
  });

  it("an unknown target is refused with the list of known ones", () => {
    const result = spawnSync(process.execPath, [main, "--targets", "mongo"], { encoding: "utf8" });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(
      "unknown target(s) mongo; choose from memory, fs, postgres, redis, s3",
    );
  });
});
