// wf copy's engine across every store: fs → PostgreSQL → Redis → S3 → fs
// gives back the original journals step for step (superseded branches, fork
// lineage, waiting, failed and cancelled runs, exact state), fork sources are created
// before their forks, every hop verifies the same content hash, and a second
// copy writes nothing and says so.
import { cancelRun, type WorkflowStorage } from "@wf/core";
import { afterAll, describe, expect, it } from "vitest";
import { copyJournals, type RunCopyResult, summarizeCopy } from "../src/copy.js";
import {
  emptyStore,
  openSpec,
  readStore,
  type StoreSpec,
  seedJournals,
  storeSpec,
} from "./fixtures/copy-stores.js";

describe("copyJournals round trip", () => {
  const specs: StoreSpec[] = [
    storeSpec("fs", "trip_a"),
    storeSpec("postgres", "trip"),
    storeSpec("redis", "trip"),
    storeSpec("s3", "trip"),
    storeSpec("fs", "trip_b"),
  ];
  const stores: WorkflowStorage[] = [];
  afterAll(async () => {
    for (const store of stores) {
      await emptyStore(store);
      await store.close();
    }
    for (const spec of specs) await spec.cleanUp?.();
  });

  it("fs → PostgreSQL → Redis → S3 → fs gives journals equal to the original, step for step", async () => {
    for (const spec of specs) stores.push(await openSpec(spec));
    const seeded = await seedJournals(stores[0] as WorkflowStorage);
    // A cancelled run: its cancel step (the reason as its error, no previous node) must travel as is.
    const waitingRun = await (stores[0] as WorkflowStorage).getRun("copy-main", seeded.waiting);
    expect(
      await cancelRun(stores[0] as WorkflowStorage, "copy-main", seeded.waiting, {
        reason: "nul \u0000 and émoji 🎉 in a reason",
      }),
    ).toBe(true);
    const original = await readStore(stores[0] as WorkflowStorage);

    // The journals have the shapes the copy must keep.
    const byId = new Map(original.map((entry) => [entry.run.runId, entry]));
    const resumed = byId.get(seeded.resumed);
    expect(resumed?.steps.map((step) => [step.step, step.parent, step.status])).toEqual([
      [0, null, "running"],
      [1, 0, "running"],
      [2, 1, "running"],
      [3, 2, "running"],
      [4, 3, "completed"],
      [5, 2, "running"],
      [6, 5, "completed"],
    ]);
    expect(byId.get(seeded.fork)?.run.forkedFrom).toEqual({ runId: seeded.resumed, step: 2 });
    expect(byId.get(seeded.forkOfFork)?.run.forkedFrom).toEqual({ runId: seeded.fork, step: 3 });
    const cancelled = byId.get(seeded.waiting);
    expect(cancelled?.run).toMatchObject({
      status: "cancelled",
      headStep: waitingRun.headStep + 1,
    });
    expect(cancelled?.steps.at(-1)).toMatchObject({
      status: "cancelled",
      parent: waitingRun.headStep,
      previousNodeId: null,
      error: {
        name: "RunCancelled",
        code: "CANCELLED",
        message: "nul \u0000 and émoji 🎉 in a reason",
      },
    });
    expect(original.find((entry) => entry.run.workflowId === "copy-other")?.run.status).toBe(
      "waiting_for_input",
    );
    expect(byId.get(seeded.failed)?.run.status).toBe("failed");
    expect(original).toHaveLength(6);
    const steps = original.reduce((sum, entry) => sum + entry.steps.length, 0);

    const hashes: Map<string, string | null>[] = [];
    for (let hop = 0; hop < 4; hop++) {
      const from = stores[hop] as WorkflowStorage;
      const to = stores[hop + 1] as WorkflowStorage;
      const created: string[] = [];
      const watched = new Proxy(to, {
        get(target, property) {
          const value = Reflect.get(target, property);
          if (typeof value !== "function") return value;
          if (property !== "createRun") return value.bind(target);
          return (run: { runId: string }, first: unknown) => {
            created.push(run.runId);
            return value.call(target, run, first);
          };
        },
      });
      const results: RunCopyResult[] = [];
      const report = await copyJournals({ from, to: watched, onRun: (r) => results.push(r) });
      expect(report.problems).toEqual([]);
      expect(report.aborted).toBe(false);
      expect(report.totals).toMatchObject({ runs: 6, copied: 6, steps, stepsCopied: steps });
      expect(
        results.every((r) => r.outcome === "copied" && /^[0-9a-f]{64}$/.test(r.sha256 ?? "")),
      ).toBe(true);
      // A fork's source is in the destination before the fork.
      expect(created.indexOf(seeded.resumed)).toBeLessThan(created.indexOf(seeded.fork));
      expect(created.indexOf(seeded.fork)).toBeLessThan(created.indexOf(seeded.forkOfFork));
      expect(await readStore(to)).toEqual(original);
      // The destination lists it under its status too (each store keeps its own status index).
      const listed = await to.listRuns("copy-main", { status: "cancelled" });
      expect(listed.items.map((run) => run.runId)).toEqual([seeded.waiting]);
      hashes.push(new Map(results.map((r) => [r.runId, r.sha256])));
    }
    // The content hash depends on the journal only, not on the store it was read from.
    for (const map of hashes.slice(1)) expect(map).toEqual(hashes[0]);
  });

  it("a second copy writes nothing and says so", async () => {
    const from = stores[3] as WorkflowStorage;
    const to = stores[4] as WorkflowStorage;
    const before = await readStore(to);
    let writes = 0;
    const counted = new Proxy(to, {
      get(target, property) {
        const value = Reflect.get(target, property);
        if (typeof value !== "function") return value;
        if (property === "createRun" || property === "appendStep" || property === "deleteRun") {
          writes += 1;
        }
        return value.bind(target);
      },
    });
    const report = await copyJournals({ from, to: counted, collectRuns: true });
    expect(writes).toBe(0);
    expect(report.totals).toMatchObject({ runs: 6, alreadyCopied: 6, copied: 0, stepsCopied: 0 });
    expect(report.runs.map((r) => r.outcome)).toEqual(Array(6).fill("already-copied"));
    expect(summarizeCopy(report)).toMatch(
      /^Copy done in [0-9.]+s: nothing to copy: the destination already holds all 6 runs \(22 steps\)/,
    );
    expect(await readStore(to)).toEqual(before);
  });
});
