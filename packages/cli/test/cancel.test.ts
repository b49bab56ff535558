// `wf cancel` and the cancelled status on every store: a waiting run and a
// running run are cancelled through `wf` (no definition), and the cancel step
// is read back through a second handle; a completed or cancelled run is
// refused with exit 1 and nothing written; `runs`, `show`, `steps`, `diff`,
// `prune`, `resume` and `fork` know the status.
import { WorkflowEngine, type WorkflowStorage } from "@wf/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APPROVAL, wf } from "./helpers.js";
import { makeStore, STORE_KINDS, type TestStore } from "./stores.js";

// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for escape sequences.
const ESCAPE = /\u001b\[/;

interface CancelJson {
  workflowId: string;
  runId: string;
  cancelled: boolean;
  status: string;
  headStep: number;
  previousStatus: string;
  reason: string | null;
}

type Spec = Parameters<typeof WorkflowEngine.create>[0];

describe.each(STORE_KINDS)("wf cancel on %s", (kind) => {
  let store: TestStore;
  let storage: WorkflowStorage;
  let approval: Spec;

  /** A run of the approval workflow, taken as far as `to` says. */
  async function startRun(to: "running" | "waiting" | "completed"): Promise<string> {
    const engine = await WorkflowEngine.create({
      ...approval,
      storage,
      initialState: { topic: kind },
    });
    if (to !== "running") await engine.run();
    if (to === "completed") await engine.run({ review: "yes" });
    return engine.runId;
  }

  beforeAll(async () => {
    store = await makeStore(kind);
    storage = await store.open();
    approval = ((await import(APPROVAL)) as { default: Spec }).default;
  });
  afterAll(async () => {
    await storage?.close();
    await store?.dispose();
  });

  it("cancels a waiting run: a cancelled step with the reason, the state kept, nothing else changed", async () => {
    const runId = await startRun("waiting");
    const waitingHead = await storage.getLatestStep("approval", runId);

    // Without a terminal and without --yes it asks nobody and writes nothing.
    const unasked = await wf(store.url, ["cancel", "approval", runId]);
    expect(unasked.code).toBe(2);
    expect(unasked.stderr).toContain("pass --yes");
    expect(await storage.getLatestStep("approval", runId)).toEqual(waitingHead);

    const result = await wf(store.url, [
      "cancel",
      "approval",
      runId,
      "--reason",
      "out of stock",
      "--yes",
      "--json",
    ]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.json<CancelJson>()).toEqual({
      workflowId: "approval",
      runId,
      cancelled: true,
      status: "cancelled",
      headStep: 3,
      previousStatus: "waiting_for_input",
      reason: "out of stock",
    });

    const stored = await storage.getLatestStep("approval", runId);
    expect(stored).toMatchObject({
      step: 3,
      parent: 2,
      status: "cancelled",
      previousNodeId: null,
      nextNodeId: "review",
      awaitingInput: null,
      inputs: {},
      shared: waitingHead.shared,
      nodeStatuses: waitingHead.nodeStatuses,
      error: {
        name: "RunCancelled",
        message: "out of stock",
        code: "CANCELLED",
        nodeId: "review",
        stack: null,
      },
    });
    expect(await storage.getStep("approval", runId, 2)).toEqual(waitingHead);
    expect(await storage.getRun("approval", runId)).toMatchObject({
      status: "cancelled",
      headStep: 3,
    });

    // Listed, shown and diffed as cancelled.
    const listed = await wf(store.url, ["runs", "approval", "--status", "cancelled", "--json"]);
    expect(listed.code).toBe(0);
    expect(listed.json<{ runs: { runId: string }[] }>().runs.map((run) => run.runId)).toContain(
      runId,
    );
    const shown = await wf(store.url, ["show", "approval", runId]);
    expect(shown.stdout).toMatch(/status\s+cancelled/);
    expect(shown.stdout).toMatch(/reason\s+out of stock/);
    expect(shown.stdout).toMatch(/node\s+\(none: the run was cancelled\)/);
    expect(shown.stdout).toContain(`--from 2`);
    expect(shown.stdout).not.toMatch(/^error/m);
    expect(shown.stdout).not.toContain("RunCancelled");
    const steps = await wf(store.url, ["steps", "approval", runId, "--json"]);
    expect(
      steps
        .json<{ steps: { step: number; status: string; reason: string | null }[] }>()
        .steps.at(-1),
    ).toMatchObject({ step: 3, status: "cancelled", reason: "out of stock", node: null });
    const table = await wf(store.url, ["steps", "approval", runId]);
    expect(table.stdout.trimEnd().split("\n").at(-1)).toMatch(
      /^\s*3\s+2\s+\(cancel\)\s+cancelled\s+review\s+.*cancelled: out of stock$/,
    );
    const diff = await wf(store.url, ["diff", "approval", runId, "2", "3", "--json"]);
    expect(diff.json<{ changes: unknown[] }>().changes).toEqual([
      { path: "status", kind: "changed", before: "waiting_for_input", after: "cancelled" },
    ]);
    const diffText = await wf(store.url, ["diff", "approval", runId, "2", "3"]);
    expect(diffText.stdout).toContain('~ status: "waiting_for_input" → "cancelled"');
  });

  it("refuses to cancel a cancelled or completed run: exit 1, says why, writes nothing", async () => {
    const cancelled = await startRun("waiting");
    expect((await wf(store.url, ["cancel", "approval", cancelled, "--yes"])).code).toBe(0);
    const again = await wf(store.url, [
      "cancel",
      "approval",
      cancelled,
      "--reason",
      "twice",
      "--yes",
      "--json",
    ]);
    expect(again.code).toBe(1);
    expect(again.json<CancelJson>()).toMatchObject({
      cancelled: false,
      status: "cancelled",
      headStep: 3,
      reason: "cancelled with wf cancel",
    });
    expect(JSON.parse(again.stderr).error.message).toContain("was cancelled already at step 3");
    expect(JSON.parse(again.stderr).error.message).toContain(
      `wf resume approval ${cancelled} --from 2 --definition <module>`,
    );
    expect((await storage.getRun("approval", cancelled)).headStep).toBe(3);

    const completed = await startRun("completed");
    const before = await storage.getRun("approval", completed);
    // No --yes needed: nothing would be written, so nothing is asked.
    const refused = await wf(store.url, ["cancel", "approval", completed]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toContain(`Run ${completed} of approval is completed already`);
    expect(refused.stderr).toContain("nothing was cancelled");
    expect(await storage.getRun("approval", completed)).toEqual(before);
    expect((await storage.listSteps("approval", completed, { limit: 100 })).items).toHaveLength(5);
  });

  it("cancels a running run, prints it for people, and prune --status cancelled finds it", async () => {
    const runId = await startRun("running");
    const result = await wf(store.url, ["cancel", "approval", runId, "--yes"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      `Cancelled run ${runId} of approval at step 1 (it was running): cancelled with wf cancel\n`,
    );
    expect(result.stderr).toContain(`wf resume approval ${runId} --from 0`);
    expect(await storage.getLatestStep("approval", runId)).toMatchObject({
      step: 1,
      parent: 0,
      status: "cancelled",
      nextNodeId: "draft",
    });

    const dry = await wf(store.url, [
      "prune",
      "approval",
      "--older-than",
      "0s",
      "--status",
      "cancelled",
      "--dry-run",
      "--json",
    ]);
    expect(dry.code).toBe(0);
    const { wouldDelete } = dry.json<{ wouldDelete: string[] }>();
    expect(wouldDelete).toContain(runId);
    for (const other of wouldDelete)
      expect((await storage.getRun("approval", other)).status).toBe("cancelled");
    const pruned = await wf(store.url, [
      "prune",
      "approval",
      "--older-than",
      "0s",
      "--status",
      "cancelled",
      "--yes",
      "--json",
    ]);
    expect(pruned.json<{ deleted: string[] }>().deleted.sort()).toEqual([...wouldDelete].sort());
    await expect(storage.getRun("approval", runId)).rejects.toMatchObject({
      code: "RUN_NOT_FOUND",
    });
  });

  it("resume or fork at the cancel step is refused with the step to use; resume --from that step goes on", async () => {
    const runId = await startRun("waiting");
    await wf(store.url, ["cancel", "approval", runId, "--reason", "paused", "--yes"]);
    const runsBefore = (await storage.listRuns("approval", { limit: 1000 })).items.length;

    for (const mode of ["resume", "fork"]) {
      const refused = await wf(store.url, [mode, "approval", runId, "--definition", APPROVAL]);
      expect(refused.code, mode).toBe(1);
      expect(refused.stderr).toContain(`Run ${runId} of approval is cancelled at step 3`);
      expect(refused.stderr).toContain('"paused"');
      expect(refused.stderr).toContain(
        `wf resume approval ${runId} --from 2 --definition ${APPROVAL}`,
      );
      expect(refused.stderr).toContain(`wf fork approval ${runId} --from 2`);
    }
    const answered = await wf(store.url, [
      "answer",
      "approval",
      runId,
      "review=yes",
      "--definition",
      APPROVAL,
    ]);
    expect(answered.code).toBe(1);
    expect(answered.stderr).toContain("is cancelled at step 3");
    expect((await storage.getRun("approval", runId)).headStep).toBe(3);
    expect((await storage.listRuns("approval", { limit: 1000 })).items).toHaveLength(runsBefore);

    const resumed = await wf(store.url, [
      "resume",
      "approval",
      runId,
      "--from",
      "2",
      "--answer",
      "review=yes",
      "--definition",
      APPROVAL,
      "--json",
    ]);
    expect(resumed.code).toBe(0);
    expect(resumed.json()).toMatchObject({ status: "completed", headStep: 5 });
    expect((await storage.getStep("approval", runId, 4)).parent).toBe(2);
    // The cancel step stays in the journal, on a superseded branch.
    const all = await wf(store.url, ["steps", "approval", runId, "--all", "--json"]);
    expect(
      all
        .json<{ steps: { step: number; status: string; superseded: boolean }[] }>()
        .steps.find((step) => step.step === 3),
    ).toMatchObject({ status: "cancelled", superseded: true });
  });

  it("colours cancelled apart from the other statuses, and prints a hostile reason without control characters", async () => {
    const runId = await startRun("waiting");
    const cancel = await wf(store.url, [
      "cancel",
      "approval",
      runId,
      "--reason",
      "stop\u001b[2Jnow",
      "--yes",
    ]);
    expect(cancel.stdout).not.toMatch(ESCAPE);
    expect(cancel.stdout).toContain("stop [2Jnow");
    expect((await storage.getLatestStep("approval", runId)).error?.message).toBe(
      "stop\u001b[2Jnow",
    );
    const listed = await wf(store.url, ["runs", "approval", "--status", "cancelled"], {
      tty: true,
      columns: 200,
    });
    expect(listed.stdout).toContain("\u001b[35mcancelled");
    const shown = await wf(store.url, ["show", "approval", runId], {
      tty: true,
      env: { NO_COLOR: "1" },
    });
    expect(shown.stdout).toMatch(/reason\s+stop \[2Jnow/);
    expect(shown.stdout).not.toMatch(ESCAPE);
  });

  it("refuses hostile ids and an empty reason before the store is touched, and an unknown run with exit 1", async () => {
    for (const id of ["../../etc", "__proto__", "a\u0000b", "run*", "r".repeat(129)]) {
      const result = await wf(store.url, ["cancel", "approval", id, "--yes"]);
      expect(result.code, id).toBe(2);
      expect(result.stderr).toContain("1 to 128 characters");
      const workflow = await wf(store.url, ["cancel", id, "some-run", "--yes", "--json"]);
      expect(workflow.code).toBe(2);
      expect(JSON.parse(workflow.stderr)).toMatchObject({ error: { code: "INVALID_ID" } });
    }
    const runId = await startRun("waiting");
    const empty = await wf(store.url, ["cancel", "approval", runId, "--reason", " ", "--yes"]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("--reason");
    expect((await storage.getRun("approval", runId)).status).toBe("waiting_for_input");
    const unknown = await wf(store.url, ["cancel", "approval", "no-such-run", "--yes", "--json"]);
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stderr)).toMatchObject({ error: { code: "RUN_NOT_FOUND" } });
  });
});
