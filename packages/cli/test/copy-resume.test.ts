// wf copy's engine when things go wrong: a copy killed with SIGKILL between
// two writes, or stopped by its signal, leaves runs that are prefixes of
// their sources and a second copy completes and verifies them; a source run
// that grew gets only its new steps; a destination run that differs is a
// conflict and stays untouched; a damaged source run is reported while the
// rest is copied; bad ids are refused before anything is written.
import { fork } from "node:child_process";
import { readdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { StepRecord, WorkflowStorage } from "@wf/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyJournals } from "../src/copy.js";
import { buildCopyEngine } from "./fixtures/copy-build.js";
import {
  emptyStore,
  openSpec,
  readStore,
  type StoredRun,
  type StoreSpec,
  seedJournals,
  storeSpec,
} from "./fixtures/copy-stores.js";

const here = dirname(fileURLToPath(import.meta.url));

/** Opens fresh stores of these kinds, closing and emptying them after the file's tests. */
function storesFor(...kinds: StoreSpec["kind"][]) {
  const specs = kinds.map((kind, index) => storeSpec(kind, `resume${index}`));
  const stores: WorkflowStorage[] = [];
  return {
    specs,
    async open(): Promise<WorkflowStorage[]> {
      for (const spec of specs) stores.push(await openSpec(spec));
      return stores;
    },
    async close(): Promise<void> {
      for (const store of stores.splice(0)) {
        await emptyStore(store);
        await store.close();
      }
      for (const spec of specs) await spec.cleanUp?.();
    },
  };
}

/** Wraps a store so that `onWrite` runs after each acknowledged createRun or appendStep. */
function afterWrites(store: WorkflowStorage, onWrite: (writes: number) => void): WorkflowStorage {
  let writes = 0;
  return new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property);
      if (typeof value !== "function") return value;
      if (property !== "createRun" && property !== "appendStep") return value.bind(target);
      return async (...args: unknown[]) => {
        await value.apply(target, args);
        writes += 1;
        onWrite(writes);
      };
    },
  });
}

/** Every destination run holds the first records of the source run of the same ids, and no more. */
function expectPrefixes(destination: StoredRun[], source: StoredRun[]): StoredRun[] {
  const partial: StoredRun[] = [];
  for (const copied of destination) {
    const original = source.find((entry) => entry.run.runId === copied.run.runId);
    expect(original, copied.run.runId).toBeDefined();
    if (!original) continue;
    expect(copied.steps).toEqual(original.steps.slice(0, copied.steps.length));
    const head = copied.steps.at(-1) as StepRecord;
    // The metadata is the source's as it was when its head was at that step.
    expect(copied.run).toEqual({
      ...original.run,
      headStep: head.step,
      status: head.status,
      updatedAt: head.createdAt,
    });
    if (copied.steps.length < original.steps.length) partial.push(copied);
  }
  return partial;
}

describe("a copy killed with SIGKILL", () => {
  const stores = storesFor("fs", "postgres");
  let built: Awaited<ReturnType<typeof buildCopyEngine>> | undefined;
  beforeAll(async () => {
    built = await buildCopyEngine();
  });
  afterAll(async () => {
    await stores.close();
    await built?.remove();
  });

  it("leaves prefixes of the source runs, and run again completes and verifies them", async () => {
    const [source, destination] = (await stores.open()) as [WorkflowStorage, WorkflowStorage];
    await seedJournals(source);
    const original = await readStore(source);
    const writes = 9;
    const [from, to] = stores.specs.map(({ url, options }) => ({ url, options }));
    const child = fork(
      join(here, "fixtures", "copy-child.mjs"),
      [JSON.stringify({ built: built?.dir, from, to, writes })],
      { execArgv: [], stdio: ["ignore", "inherit", "inherit", "ipc"] },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once("exit", (_code, signal) => resolve(signal)),
    );
    const message = await new Promise<unknown>((resolve, reject) => {
      child.once("message", resolve);
      child.once("exit", (code) =>
        reject(new Error(`the copy exited (${code}) before ${writes} writes`)),
      );
    });
    expect(message).toEqual({ acknowledged: writes });
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");

    const interrupted = await readStore(destination);
    expect(interrupted.reduce((sum, entry) => sum + entry.steps.length, 0)).toBe(writes);
    const partial = expectPrefixes(interrupted, original);
    expect(partial).toHaveLength(1);

    const report = await copyJournals({ from: source, to: destination, collectRuns: true });
    expect(report.problems).toEqual([]);
    const outcomes = new Map(report.runs.map((r) => [r.runId, r.outcome]));
    expect(outcomes.get(partial[0]?.run.runId ?? "")).toBe("resumed");
    expect(report.totals.runs).toBe(original.length);
    expect(report.totals.alreadyCopied).toBe(interrupted.length - 1);
    expect(report.totals.stepsCopied).toBe(
      original.reduce((sum, entry) => sum + entry.steps.length, 0) - writes,
    );
    expect(await readStore(destination)).toEqual(original);
  });
});

describe("copy edge cases", () => {
  const stores = storesFor("fs", "redis", "fs");
  let source: WorkflowStorage;
  let destination: WorkflowStorage;
  let spare: WorkflowStorage;
  beforeAll(async () => {
    [source, destination, spare] = (await stores.open()) as [
      WorkflowStorage,
      WorkflowStorage,
      WorkflowStorage,
    ];
  });
  afterAll(() => stores.close());

  it("a copy stopped by its signal between writes is resumed by the next copy", async () => {
    const seeded = await seedJournals(source);
    const original = await readStore(source);
    const controller = new AbortController();
    const stopping = afterWrites(destination, (writes) => writes === 5 && controller.abort());
    const report = await copyJournals({ from: source, to: stopping, signal: controller.signal });
    expect(report.aborted).toBe(true);
    expect(report.totals.stepsCopied).toBe(5);
    const interrupted = await readStore(destination);
    expect(interrupted.reduce((sum, entry) => sum + entry.steps.length, 0)).toBe(5);
    expectPrefixes(interrupted, original);

    const again = await copyJournals({ from: source, to: destination });
    expect(again.aborted).toBe(false);
    expect(again.problems).toEqual([]);
    expect(again.totals.resumed + again.totals.copied).toBeGreaterThan(0);
    expect(await readStore(destination)).toEqual(original);

    // The source's waiting run grows: the next copy appends only the new steps.
    const head = await source.getLatestStep("copy-main", seeded.waiting);
    for (let step = head.step + 1; step <= head.step + 3; step++) {
      await source.appendStep({
        ...head,
        step,
        parent: step - 1,
        createdAt: new Date(Date.parse(head.createdAt) + step * 1000).toISOString(),
        status: "running",
        awaitingInput: null,
        nodeStatuses: { s1: "completed" },
        nodeTypes: { s1: "Increment" },
      });
    }
    const grown = await copyJournals({ from: source, to: destination, collectRuns: true });
    expect(grown.problems).toEqual([]);
    expect(grown.totals).toMatchObject({ resumed: 1, stepsCopied: 3 });
    expect(grown.runs.find((r) => r.outcome === "resumed")).toMatchObject({
      runId: seeded.waiting,
      stepsCopied: 3,
    });
    expect(await readStore(destination)).toEqual(await readStore(source));
  });

  it("a destination run that differs is a conflict, reported and left untouched", async () => {
    const runs = await readStore(source);
    const [first, second] = runs.filter(
      (entry) => entry.steps.length >= 3 && entry.run.forkedFrom === null,
    ) as [StoredRun, StoredRun];
    // In the spare store: one run whose step 1 differs, one with other metadata, the rest absent.
    const [step0, step1] = first.steps as [StepRecord, StepRecord];
    await spare.createRun(
      { ...first.run, headStep: 0, status: step0.status, updatedAt: step0.createdAt },
      step0,
    );
    await spare.appendStep({ ...step1, shared: { other: true } });
    const otherStep0 = second.steps[0] as StepRecord;
    await spare.createRun(
      {
        ...second.run,
        createdAt: "2001-01-01T00:00:00.000Z",
        headStep: 0,
        status: otherStep0.status,
        updatedAt: otherStep0.createdAt,
      },
      otherStep0,
    );
    const before = await readStore(spare);
    const report = await copyJournals({ from: source, to: spare });
    expect(report.totals.conflicts).toBe(2);
    expect(report.problems.map((r) => [r.runId, r.outcome]).sort()).toEqual(
      [
        [first.run.runId, "conflict"],
        [second.run.runId, "conflict"],
      ].sort(),
    );
    const reasons = new Map(report.problems.map((r) => [r.runId, r.reason]));
    expect(reasons.get(first.run.runId)).toContain("step 1 differs");
    expect(reasons.get(second.run.runId)).toContain("createdAt");
    expect(reasons.get(first.run.runId)).toContain("left untouched");
    const after = await readStore(spare);
    for (const kept of before) {
      expect(after.find((entry) => entry.run.runId === kept.run.runId)).toEqual(kept);
    }
    expect(after).toHaveLength(runs.length);
    // Copied again, the same two conflicts, nothing written.
    const again = await copyJournals({ from: source, to: spare });
    expect(again.totals).toMatchObject({ conflicts: 2, stepsCopied: 0 });
    expect(await readStore(spare)).toEqual(after);
  });

  it("a damaged source run is reported and the others are copied", async () => {
    const damagedSpec = storeSpec("fs", "damaged");
    const target = storeSpec("fs", "damaged_to");
    const from = await openSpec(damagedSpec);
    const to = await openSpec(target);
    try {
      const seeded = await seedJournals(from);
      // Break the failed run's metadata file on disk.
      const dir = damagedSpec.url.slice("file:".length);
      const entries = await readdir(dir, { recursive: true });
      const runFile = entries
        .map(String)
        .find((path) => path.endsWith("run.json") && path.includes(seeded.failed.slice(-8)));
      expect(runFile).toBeDefined();
      await writeFile(join(dir, runFile as string), "{ not json");
      const report = await copyJournals({ from, to });
      expect(report.problems).toHaveLength(1);
      expect(report.problems[0]).toMatchObject({
        runId: seeded.failed,
        outcome: "damaged-in-source",
        sha256: null,
      });
      expect(report.totals).toMatchObject({ runs: 6, copied: 5, damaged: 1 });
      expect((await readStore(to)).map((entry) => entry.run.runId)).not.toContain(seeded.failed);
    } finally {
      await to.close();
      await from.close();
      await damagedSpec.cleanUp?.();
      await target.cleanUp?.();
    }
  });

  it("bad ids and options are refused before anything is read or written", async () => {
    const before = await readStore(spare);
    await expect(
      copyJournals({ from: source, to: spare, workflowId: "../etc" }),
    ).rejects.toMatchObject({
      code: "INVALID_ID",
    });
    await expect(
      copyJournals({ from: source, to: spare, workflowId: "copy-main", runId: "__proto__" }),
    ).rejects.toMatchObject({ code: "INVALID_ID" });
    await expect(copyJournals({ from: source, to: spare, runId: "r1" })).rejects.toThrow(
      "copying one run needs its workflow too: give workflowId with runId",
    );
    await expect(copyJournals({ from: source, to: spare, stepPageSize: 0 })).rejects.toThrow(
      RangeError,
    );
    await expect(
      copyJournals({ from: source, to: spare, workflowId: "copy-main", runId: "no-such-run" }),
    ).rejects.toMatchObject({ code: "RUN_NOT_FOUND" });
    expect(await readStore(spare)).toEqual(before);
  });
});
