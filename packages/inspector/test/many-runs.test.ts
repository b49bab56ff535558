// A workflow with 10,000 runs lists page by page through the API (each run
// once, newest first, a page never larger than asked), and its counts per
// status cover every run.
import { MemoryStorage } from "@wf/core";
import { sampleRun, sampleStep } from "@wf/storage-conformance/records";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunsView, StatusCounts } from "../src/api-types.js";
import { type Inspector, startInspector } from "../src/index.js";

const RUNS = 10_000;

describe("a workflow with 10,000 runs", () => {
  const storage = new MemoryStorage();
  let inspector: Inspector;
  let base: string;

  beforeAll(async () => {
    for (let index = 0; index < RUNS; index++) {
      const runId = `run-${String(index).padStart(5, "0")}`;
      const createdAt = new Date(Date.UTC(2026, 0, 1, 0, 0, index)).toISOString();
      const status = index % 10 === 0 ? "failed" : "running";
      await storage.createRun(
        sampleRun("busy", runId, { createdAt, updatedAt: createdAt, status }),
        sampleStep("busy", runId, 0, { createdAt, status }),
      );
    }
    inspector = await startInspector({ storage, port: 0 });
    base = `http://127.0.0.1:${inspector.port}`;
  });
  afterAll(() => inspector?.close());

  it("lists page by page, each run once, newest first", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query = new URLSearchParams({ limit: "200", ...(cursor ? { cursor } : {}) });
      const page = (await (
        await fetch(`${base}/api/workflows/busy/runs?${query}`)
      ).json()) as RunsView;
      expect(page.items.length).toBeLessThanOrEqual(200);
      seen.push(...page.items.map((run) => run.runId));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(RUNS / 200);
    expect(new Set(seen).size).toBe(RUNS);
    expect(seen[0]).toBe("run-09999");
    expect(seen.at(-1)).toBe("run-00000");
  });

  it("counts every run by status", async () => {
    const counts = (await (
      await fetch(`${base}/api/workflows/busy/counts`)
    ).json()) as StatusCounts;
    expect(counts).toMatchObject({ total: RUNS, complete: true });
    expect(counts.byStatus).toMatchObject({ failed: RUNS / 10, running: RUNS - RUNS / 10 });
  });
});
