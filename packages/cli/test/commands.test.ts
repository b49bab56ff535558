// Every command on every store: the five kinds of run (completed, waiting,
// failed, resumed from an earlier step, forked) are written through the
// engine, then listed, shown, diffed, validated, continued, deleted and pruned
// through `wf`, and what was stored is read back through a second handle.
import type { RunMetadata, WorkflowStorage } from "@wf/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APPROVAL, RENAMED, type Seeded, seed, wf } from "./helpers.js";
import { makeStore, STORE_KINDS, type TestStore } from "./stores.js";

interface RunsJson {
  runs: {
    runId: string;
    status: string;
    headStep: number;
    forkedFrom: { runId: string; step: number } | null;
  }[];
  more: boolean;
}
interface StepsJson {
  runId: string;
  steps: {
    step: number;
    parent: number | null;
    storedIn: string;
    superseded: boolean;
    status: string;
    node: string | null;
  }[];
}

describe.each(STORE_KINDS)("wf on %s", (kind) => {
  let store: TestStore;
  let storage: WorkflowStorage;
  let runs: Seeded;

  beforeAll(async () => {
    store = await makeStore(kind);
    storage = await store.open();
    runs = await seed(storage);
  });
  afterAll(async () => {
    await storage?.close();
    await store?.dispose();
  });

  it("workflows lists the workflow with its run count and newest run", async () => {
    const result = await wf(store.url, ["workflows", "--json"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const { workflows } = result.json<{
      workflows: { workflowId: string; runs: number; newestRun: { runId: string } }[];
    }>();
    expect(workflows).toEqual([
      {
        workflowId: "approval",
        runs: 5,
        newestRun: expect.objectContaining({ runId: runs.fork }),
        damagedRuns: 0,
      },
    ]);
    const table = await wf(store.url, ["workflows"]);
    expect(table.stdout).toMatch(/^WORKFLOW\s+RUNS\s+NEWEST RUN\s+CREATED\n/);
    expect(table.stdout).toContain(`approval  `);
  });

  it("runs lists newest first, with status, head and fork parent, and filters", async () => {
    const all = (await wf(store.url, ["runs", "approval", "--json"])).json<RunsJson>();
    expect(all.runs.map((run) => run.runId)).toEqual([
      runs.fork,
      runs.resumed,
      runs.failed,
      runs.waiting,
      runs.completed,
    ]);
    const byId = Object.fromEntries(all.runs.map((run) => [run.runId, run]));
    expect(byId[runs.completed]).toMatchObject({
      status: "completed",
      headStep: 4,
      forkedFrom: null,
    });
    expect(byId[runs.failed]).toMatchObject({ status: "failed", headStep: 4 });
    expect(byId[runs.resumed]).toMatchObject({ status: "waiting_for_input", headStep: 5 });
    expect(byId[runs.fork]).toMatchObject({
      forkedFrom: { runId: runs.completed, step: 2 },
      headStep: 5,
    });

    const waiting = (
      await wf(store.url, ["runs", "approval", "--status", "waiting_for_input", "--json"])
    ).json<RunsJson>();
    expect(waiting.runs.map((run) => run.runId)).toEqual([runs.fork, runs.resumed, runs.waiting]);
    const forks = (
      await wf(store.url, ["runs", "approval", "--forked-from", runs.completed, "--json"])
    ).json<RunsJson>();
    expect(forks.runs.map((run) => run.runId)).toEqual([runs.fork]);
    const two = (
      await wf(store.url, ["runs", "approval", "--limit", "2", "--json"])
    ).json<RunsJson>();
    expect(two).toMatchObject({ more: true });
    expect(two.runs).toHaveLength(2);

    const table = await wf(store.url, ["runs", "approval"]);
    expect(table.stdout.split("\n")[0]).toMatch(
      /^RUN\s+STATUS\s+HEAD\s+CREATED\s+UPDATED\s+FORKED FROM$/,
    );
    expect(table.stdout).toContain(`${runs.completed}@2`);
  });

  it("steps shows the timeline to the head, and --all adds the superseded branch, marked", async () => {
    const timeline = (
      await wf(store.url, ["steps", "approval", runs.resumed, "--json"])
    ).json<StepsJson>();
    expect(timeline.steps.map((step) => [step.step, step.parent, step.superseded])).toEqual([
      [0, null, false],
      [1, 0, false],
      [5, 1, false],
    ]);
    const all = (
      await wf(store.url, ["steps", "approval", runs.resumed, "--all", "--json"])
    ).json<StepsJson>();
    expect(all.steps.map((step) => [step.step, step.superseded])).toEqual([
      [0, false],
      [1, false],
      [2, true],
      [3, true],
      [4, true],
      [5, false],
    ]);
    const table = await wf(store.url, ["steps", "approval", runs.resumed, "--all"]);
    expect(table.stdout.split("\n").filter((line) => line.includes("superseded"))).toHaveLength(3);
  });

  it("steps of a fork reads the steps before the fork point through its source", async () => {
    const { steps } = (
      await wf(store.url, ["steps", "approval", runs.fork, "--json"])
    ).json<StepsJson>();
    expect(
      steps.map((step) => [step.step, step.storedIn === runs.completed ? "source" : "fork"]),
    ).toEqual([
      [0, "source"],
      [1, "source"],
      [2, "fork"],
      [3, "fork"],
      [4, "fork"],
      [5, "fork"],
    ]);
  });

  it("show prints a step's node, state, question and a failed step's error with its stack", async () => {
    const failed = await wf(store.url, ["show", "approval", runs.failed]);
    expect(failed.code).toBe(0);
    expect(failed.stdout).toMatch(/status\s+failed/);
    expect(failed.stdout).toContain("Error: the printer is on fire (fire)");
    expect(failed.stdout).toMatch(/at .*approval\.mjs/);
    const waiting = await wf(store.url, ["show", "approval", runs.waiting]);
    expect(waiting.stdout).toContain('Approve the draft? (answer under "review")');
    expect(waiting.stdout).toContain('"yes" | "no"');
    const early = (
      await wf(store.url, ["show", "approval", runs.fork, "--step", "1", "--json"])
    ).json<{ record: { runId: string; step: number; shared: unknown } }>();
    expect(early.record).toMatchObject({
      runId: runs.completed,
      step: 1,
      shared: { topic: "tides", drafts: 1 },
    });
  });

  it("diff shows what changed between two steps, and across a fork", async () => {
    const between = (
      await wf(store.url, ["diff", "approval", runs.completed, "2", "3", "--json"])
    ).json<{ changes: unknown[] }>();
    expect(between.changes).toEqual(
      expect.arrayContaining([
        { path: "shared.decision", kind: "added", after: "yes" },
        { path: "nodeStatuses.review", kind: "changed", before: "waiting", after: "completed" },
      ]),
    );
    const across = (
      await wf(store.url, ["diff", "approval", `${runs.completed}@4`, `${runs.fork}@4`, "--json"])
    ).json<{ changes: unknown[] }>();
    expect(across.changes).toEqual(
      expect.arrayContaining([
        { path: "shared.decision", kind: "changed", before: "yes", after: "no" },
        { path: "shared.publishedOn", kind: "removed", before: "front page" },
        { path: "shared.drafts", kind: "changed", before: 1, after: 2 },
      ]),
    );
    const text = await wf(store.url, ["diff", "approval", runs.completed, "2", "3"]);
    expect(text.stdout).toContain('+ shared.decision: "yes"');
    const same = await wf(store.url, ["diff", "approval", runs.completed, "3", "3"]);
    expect(same.stdout).toContain("No differences");
  });

  it("validate says which runs a definition can resume, and why each other cannot", async () => {
    const ok = (
      await wf(store.url, ["validate", "approval", "--definition", APPROVAL, "--json"])
    ).json<{ runs: { resumable: boolean }[] }>();
    expect(ok.runs).toHaveLength(5);
    expect(ok.runs.every((run) => run.resumable)).toBe(true);
    const renamed = await wf(store.url, [
      "validate",
      "approval",
      "--definition",
      RENAMED,
      "--json",
    ]);
    expect(renamed.code).toBe(0);
    const verdicts = renamed.json<{
      runs: { runId: string; resumable: boolean; reason: string | null; code: string | null }[];
    }>().runs;
    const waiting = verdicts.find((verdict) => verdict.runId === runs.waiting);
    expect(waiting).toMatchObject({ resumable: false, code: "INCOMPATIBLE_STATE" });
    expect(waiting?.reason).toMatch(/^Cannot resume:.*review/);
    const one = (
      await wf(store.url, [
        "validate",
        "approval",
        "--definition",
        RENAMED,
        "--run",
        runs.waiting,
        "--json",
      ])
    ).json<{ runs: unknown[] }>();
    expect(one.runs).toHaveLength(1);
  });

  it("answer journals the answer through the engine and runs the run on", async () => {
    const result = await wf(store.url, [
      "answer",
      "approval",
      runs.waiting,
      "review=yes",
      "--definition",
      APPROVAL,
      "--json",
    ]);
    expect(result.stderr).toBe("");
    expect(result.json()).toMatchObject({ status: "completed", headStep: 4 });
    const stored = await storage.getLatestStep("approval", runs.waiting);
    expect(stored).toMatchObject({
      step: 4,
      status: "completed",
      shared: { decision: "yes", publishedOn: "front page" },
    });
    expect((await storage.getStep("approval", runs.waiting, 3)).inputs).toEqual({ review: "yes" });
  });

  it("resume --from appends a branch and overwrites nothing", async () => {
    const before = await storage.getStep("approval", runs.completed, 3);
    const result = await wf(store.url, [
      "resume",
      "approval",
      runs.completed,
      "--from",
      "2",
      "--answer",
      "review=no",
      "--definition",
      APPROVAL,
      "--json",
    ]);
    expect(result.code).toBe(0);
    const { steps } = result.json<StepsJson>();
    expect(steps.map((step) => [step.step, step.parent, step.node])).toEqual([
      [5, 2, "review"],
      [6, 5, "draft"],
      [7, 6, "review"],
    ]);
    expect(await storage.getStep("approval", runs.completed, 3)).toEqual(before);
    expect(await storage.getRun("approval", runs.completed)).toMatchObject({
      headStep: 7,
      status: "waiting_for_input",
    });
  });

  it("fork starts a new run from a step and leaves the source unchanged", async () => {
    const source: RunMetadata = await storage.getRun("approval", runs.failed);
    const result = await wf(store.url, [
      "fork",
      "approval",
      runs.failed,
      "--from",
      "2",
      "--answer",
      "review=no",
      "--definition",
      APPROVAL,
      "--json",
    ]);
    expect(result.code).toBe(0);
    const forked = result.json<{ runId: string; steps: { step: number }[] }>();
    expect(forked.runId).not.toBe(runs.failed);
    expect(forked.steps.map((step) => step.step)).toEqual([2, 3, 4, 5]);
    expect(await storage.getRun("approval", forked.runId)).toMatchObject({
      forkedFrom: { runId: runs.failed, step: 2 },
      status: "waiting_for_input",
    });
    expect(await storage.getRun("approval", runs.failed)).toEqual(source);
  });

  it("delete asks first, refuses a run that forks read through unless --force, then deletes", async () => {
    const noTerminal = await wf(store.url, ["delete", "approval", runs.completed, "--force"]);
    expect(noTerminal.code).toBe(2);
    expect(noTerminal.stderr).toContain("pass --yes");
    const withForks = await wf(store.url, ["delete", "approval", runs.completed, "--yes"]);
    expect(withForks.code).toBe(1);
    expect(withForks.stderr).toContain(runs.fork);
    expect(withForks.stderr).toContain("--force");
    expect((await storage.getRun("approval", runs.completed)).runId).toBe(runs.completed);
    const forced = await wf(store.url, ["delete", "approval", runs.completed, "--yes", "--force"]);
    expect(forced.code).toBe(0);
    await expect(storage.getRun("approval", runs.completed)).rejects.toMatchObject({
      code: "RUN_NOT_FOUND",
    });
    // The fork stays resumable without its source.
    expect((await storage.getLatestStep("approval", runs.fork)).step).toBe(5);
  });

  it("prune counts first, deletes only matching runs of that workflow, and --dry-run deletes nothing", async () => {
    const dry = await wf(store.url, [
      "prune",
      "approval",
      "--older-than",
      "0s",
      "--status",
      "failed",
      "--dry-run",
      "--force",
      "--json",
    ]);
    expect(dry.json()).toMatchObject({
      dryRun: true,
      wouldDelete: [runs.failed],
      deleted: [],
      kept: [],
    });
    expect((await storage.getRun("approval", runs.failed)).status).toBe("failed");
    // The failed run is the source of the fork made above: kept unless --force.
    const kept = await wf(store.url, [
      "prune",
      "approval",
      "--older-than",
      "0s",
      "--status",
      "failed",
      "--yes",
      "--json",
    ]);
    expect(kept.json()).toMatchObject({ deleted: [], kept: [runs.failed] });
    const young = await wf(store.url, [
      "prune",
      "approval",
      "--older-than",
      "30d",
      "--yes",
      "--json",
    ]);
    expect(young.json()).toMatchObject({ deleted: [] });
    const pruned = await wf(store.url, [
      "prune",
      "approval",
      "--older-than",
      "0s",
      "--status",
      "failed",
      "--yes",
      "--force",
      "--json",
    ]);
    expect(pruned.json()).toMatchObject({ deleted: [runs.failed] });
    await expect(storage.getRun("approval", runs.failed)).rejects.toMatchObject({
      code: "RUN_NOT_FOUND",
    });
    expect((await storage.getRun("approval", runs.resumed)).status).toBe("waiting_for_input");
  });
});
