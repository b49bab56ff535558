// `--workers` runs end to end at a tiny size on both queues, through real
// worker processes, Redis and PostgreSQL; it measures, it does not judge:
// the test checks the tables' shape and that every figure was taken.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { withBareWorkers } from "../src/workers-args.js";
import { formatWorkersReport } from "../src/workers-table.js";

const main = fileURLToPath(new URL("../dist/main.js", import.meta.url));

const BACKENDS = [
  ["bullmq", "BullMQ + RedisStorage"],
  ["pg-boss", "pg-boss + PostgresStorage"],
] as const;

describe("bench --workers", () => {
  it("a bare --workers takes the default counts, wherever it stands", () => {
    expect(withBareWorkers(["--workers"])).toEqual(["--workers=1,2,4"]);
    expect(withBareWorkers(["--workers", "--json"])).toEqual(["--workers=1,2,4", "--json"]);
    expect(withBareWorkers(["--workers", "1,3"])).toEqual(["--workers", "1,3"]);
  });

  it("--workers 1,2 --json reports throughput and recovery on BullMQ and pg-boss", {
    timeout: 600_000,
  }, () => {
    const result = spawnSync(
      process.execPath,
      [
        main,
        "--workers",
        "1,2",
        "--worker-runs",
        "6",
        "--worker-steps",
        "3",
        "--worker-rounds",
        "1",
        "--worker-concurrency",
        "2",
        "--worker-io-ms",
        "1",
        "--json",
      ],
      { encoding: "utf8", timeout: 540_000 },
    );
    expect(result.stderr).toContain("BullMQ + RedisStorage: 2 worker(s) round 1/1");
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.failures).toEqual([]);
    expect(report.options).toMatchObject({
      kinds: ["bullmq", "pg-boss"],
      workerCounts: [1, 2],
      runs: 6,
      steps: 3,
      rounds: 1,
      concurrency: 2,
      ioMs: 1,
      lease: { leaseSeconds: 5, checkSeconds: 1 },
    });
    expect(report.workload).toBe(
      "3 nodes in a chain; each waits 1 ms on a timer (simulated I/O) and adds 1 to a counter",
    );
    // One row per queue and worker count, in that order, every figure taken.
    expect(
      report.throughput.map((row: { backend: string; workers: number }) => [
        row.backend,
        row.workers,
      ]),
    ).toEqual([
      ["bullmq", 1],
      ["bullmq", 2],
      ["pg-boss", 1],
      ["pg-boss", 2],
    ]);
    for (const row of report.throughput) {
      expect(row.runsAtOnce).toBe(row.workers * 2);
      expect(row.stepsPerSecond).toBeGreaterThan(0);
      expect(row.inProcessStepsPerSecond).toBeGreaterThan(0);
    }
    // One kill per round, the victim holding 4 runs, each timed.
    expect(report.recovery).toEqual(
      BACKENDS.map(([backend, label]) => ({
        backend,
        label,
        settings: expect.any(String),
        leaseSeconds: 5,
        checkSeconds: 1,
        heldRuns: 4,
        medianMs: expect.any(Number),
        maxMs: expect.any(Number),
        roundsRepeated: expect.any(Number),
      })),
    );
    for (const row of report.recovery) {
      expect(row.medianMs).toBeGreaterThan(0);
      expect(row.maxMs).toBeGreaterThanOrEqual(row.medianMs);
    }
    expect(report.recovery[0].settings).toContain("lockDurationMs 5000, stalledIntervalMs 1000");
    expect(report.recovery[1].settings).toContain(
      "expireInSeconds 5, maintenanceIntervalSeconds 1",
    );

    // The same report as tables: a row per measurement under each header.
    const tables = formatWorkersReport(report, report.options).split("\n");
    expect(tables[0]).toMatch(
      /backend\s+workers\s+runs at once\s+steps\/s\s+in-process steps\/s\s+workers\/in-process/,
    );
    for (const [, label] of BACKENDS) {
      // Two throughput rows and one recovery row start with the label and go on with figures.
      const rows = tables.filter((line) => line.trimStart().startsWith(`${label}  `));
      expect(rows).toHaveLength(3);
      for (const row of rows) expect(row).toMatch(/(\s+\d+(\.\d+)?x?)+$/);
    }
    expect(
      tables.some((line) =>
        /backend\s+lease s\s+check s\s+runs held\s+median ms\s+max ms/.test(line),
      ),
    ).toBe(true);
  });

  it("an unknown queue is refused with the list of known ones", () => {
    const result = spawnSync(process.execPath, [main, "--workers", "--worker-queues", "sqs"], {
      encoding: "utf8",
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("unknown queue(s) sqs; choose from bullmq, pg-boss");
  });
});
