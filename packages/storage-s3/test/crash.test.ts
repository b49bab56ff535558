// Writers SIGKILLed between their writes: readers see exactly what was committed, and the next writer repairs and continues with nothing lost.
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { WorkflowEngine } from "@wf/core";
import { sampleRun, sampleStep } from "@wf/storage-conformance";
import { afterAll, describe, expect, it } from "vitest";
import { FENCE } from "../src/documents.js";
import { FENCE_WINDOW } from "../src/run-deletion.js";
import { DOCUMENT_REFRESH } from "../src/run-state.js";
import { countingWorkflow } from "./fixtures/counting-workflow.js";
import {
  listKeys,
  openStore,
  rawClient,
  readObject,
  removePrefix,
  runFixture,
  s3Config,
  testPrefix,
} from "./helpers.js";

const prefix = testPrefix("crash");
const config = s3Config();
const raw = rawClient();
afterAll(async () => {
  raw.destroy();
  await removePrefix(prefix);
});

/** The run document as stored (the ids in these tests are their own key segments). */
async function storedDocument(workflowId: string, runId: string) {
  const key = `${prefix}v1/runs/${workflowId}/${runId}/run.json`;
  return JSON.parse(await readObject(raw, config.bucket, key)) as {
    incarnation: string;
    run: { headStep: number; status: string; updatedAt: string };
  };
}

function dieBetweenWrites(
  moment: "append" | "create" | "delete" | "fenced",
  workflowId: string,
  runId: string,
) {
  return runFixture("die-between-writes.js", [
    JSON.stringify(config),
    prefix,
    moment,
    workflowId,
    runId,
  ]);
}

describe("a writer killed between its writes", () => {
  it("after step n+1 but before the run document: readers see n+1, the next writer repairs the document and goes on", async () => {
    const store = openStore(prefix);
    const workflowId = "crash-append";
    const engine = await WorkflowEngine.create(countingWorkflow(workflowId, store, 100));
    const { runId } = engine;
    // Appends leave the document alone until it is DOCUMENT_REFRESH steps
    // behind: the dead writer's step is the one that would have refreshed it.
    const n = DOCUMENT_REFRESH - 1;
    while (engine.currentStep < n) await engine.step();
    const before = await storedDocument(workflowId, runId);
    expect(before.run.headStep).toBe(0);

    const child = await dieBetweenWrites("append", workflowId, runId);
    expect(child.signal, child.stderr).toBe("SIGKILL");
    // What the dead writer left: step n+1 is stored, the run document is as it was.
    expect(await storedDocument(workflowId, runId)).toEqual(before);

    const reader = openStore(prefix);
    expect(await reader.getRun(workflowId, runId)).toMatchObject({
      headStep: n + 1,
      status: "running",
    });
    const dead = await reader.getLatestStep(workflowId, runId);
    expect(dead).toMatchObject({ step: n + 1, parent: n, shared: { count: n + 1 } });
    const listed = await reader.listRuns(workflowId, { status: "running" });
    expect(listed.items.map((run) => [run.runId, run.headStep, run.updatedAt])).toEqual([
      [runId, n + 1, dead.createdAt],
    ]);
    // Reading repaired nothing: reads never write.
    expect(await storedDocument(workflowId, runId)).toEqual(before);

    // The writer that held head n loses step n+1 to the dead one.
    await expect(engine.step()).rejects.toMatchObject({ code: "STEP_CONFLICT" });
    const next = await WorkflowEngine.create({
      ...countingWorkflow(workflowId, reader, 100),
      runId,
    });
    expect(next.currentStep).toBe(n + 1);
    await next.step();
    const after = await reader.getStep(workflowId, runId, n + 2);
    expect((await storedDocument(workflowId, runId)).run).toMatchObject({
      headStep: n + 2,
      status: "running",
      updatedAt: after.createdAt,
    });
    const steps = (await reader.listSteps(workflowId, runId)).items;
    expect(steps.map((s) => [s.step, s.parent, (s.shared as { count: number }).count])).toEqual(
      Array.from({ length: n + 3 }, (_, i) => [i, i === 0 ? null : i - 1, i]),
    );
    await Promise.all([store.close(), reader.close()]);
  });

  it("on the step that completes the run: it lists as completed only, and the stale entry is cleared", async () => {
    const store = openStore(prefix);
    const workflowId = "crash-complete";
    const engine = await WorkflowEngine.create(countingWorkflow(workflowId, store, 3));
    const { runId } = engine;
    while (engine.currentStep < 2) await engine.step();
    const before = await storedDocument(workflowId, runId);

    const child = await dieBetweenWrites("append", workflowId, runId);
    expect(child.signal, child.stderr).toBe("SIGKILL");
    // The completing step changes the status, so a document update was due; it never came.
    expect(await storedDocument(workflowId, runId)).toEqual(before);
    expect(before.run.status).toBe("running");
    const runningIndex = `${prefix}v1/index/${workflowId}/running/`;
    expect(await listKeys(raw, config.bucket, runningIndex)).toHaveLength(1);

    const reader = openStore(prefix);
    expect(await reader.getRun(workflowId, runId)).toMatchObject({
      headStep: 3,
      status: "completed",
    });
    expect(
      (await reader.listRuns(workflowId, { status: "completed" })).items.map((r) => r.runId),
    ).toEqual([runId]);
    expect((await reader.listRuns(workflowId, { status: "running" })).items).toEqual([]);
    // The listing removed the running entry the dead writer left: step 3 left that status for good.
    expect(await listKeys(raw, config.bucket, runningIndex)).toEqual([]);
    await Promise.all([store.close(), reader.close()]);
  });

  it("in createRun before the run document: no run exists, and the id can be created afresh", async () => {
    const workflowId = "crash-create";
    const runId = "run-1";
    const child = await dieBetweenWrites("create", workflowId, runId);
    expect(child.signal, child.stderr).toBe("SIGKILL");
    // It wrote its first step, index entries and workflow marker, none of which count without the document.
    expect(await listKeys(raw, config.bucket, `${prefix}v1/runs/${workflowId}/`)).toHaveLength(1);
    expect(await listKeys(raw, config.bucket, `${prefix}v1/workflows/`)).not.toEqual([]);

    const store = openStore(prefix);
    await expect(store.getRun(workflowId, runId)).rejects.toMatchObject({ code: "RUN_NOT_FOUND" });
    await expect(store.getStep(workflowId, runId, 0)).rejects.toMatchObject({
      code: "RUN_NOT_FOUND",
    });
    expect((await store.listRuns(workflowId)).items).toEqual([]);
    expect((await store.listWorkflows()).items).not.toContain(workflowId);

    await store.createRun(sampleRun(workflowId, runId), sampleStep(workflowId, runId, 0));
    expect((await store.getStep(workflowId, runId, 0)).shared).toEqual({ step: 0 });
    expect((await store.listSteps(workflowId, runId)).items.map((s) => s.step)).toEqual([0]);
    expect((await store.listRuns(workflowId)).items.map((r) => r.runId)).toEqual([runId]);
    expect((await store.listWorkflows()).items).toContain(workflowId);
    await store.close();
  });

  it("in deleteRun after marking the run: it is gone at once, and deleteRun again finishes the job", async () => {
    const store = openStore(prefix);
    const workflowId = "crash-delete";
    const runId = "run-1";
    await store.createRun(sampleRun(workflowId, runId), sampleStep(workflowId, runId, 0));
    for (let step = 1; step <= 3; step++)
      await store.appendStep(sampleStep(workflowId, runId, step));

    const before = await storedDocument(workflowId, runId);
    const child = await dieBetweenWrites("delete", workflowId, runId);
    expect(child.signal, child.stderr).toBe("SIGKILL");
    const runKeys = `${prefix}v1/runs/${workflowId}/${runId}/`;
    expect((await listKeys(raw, config.bucket, runKeys)).length).toBeGreaterThan(1);

    const reader = openStore(prefix);
    await expect(reader.getRun(workflowId, runId)).rejects.toMatchObject({ code: "RUN_NOT_FOUND" });
    await expect(reader.getLatestStep(workflowId, runId)).rejects.toMatchObject({
      code: "RUN_NOT_FOUND",
    });
    expect((await reader.listRuns(workflowId)).items).toEqual([]);
    // Until the deletion is finished, the id is taken.
    await expect(
      reader.createRun(sampleRun(workflowId, runId), sampleStep(workflowId, runId, 0)),
    ).rejects.toMatchObject({ code: "RUN_EXISTS" });

    await reader.deleteRun(workflowId, runId);
    // What stays is a fence at every step (0-3) and above the head (4 and up), nothing of the run itself.
    const { incarnation } = before;
    expect(await listKeys(raw, config.bucket, runKeys)).toEqual(
      Array.from(
        { length: 4 + FENCE_WINDOW },
        (_, i) => `${runKeys}${incarnation}/${String(i).padStart(12, "0")}.json`,
      ),
    );
    expect(await listKeys(raw, config.bucket, `${prefix}v1/index/${workflowId}/`)).toEqual([]);
    expect((await reader.listWorkflows()).items).not.toContain(workflowId);
    await expect(reader.deleteRun(workflowId, runId)).rejects.toMatchObject({
      code: "RUN_NOT_FOUND",
    });
    await reader.createRun(sampleRun(workflowId, runId), sampleStep(workflowId, runId, 0));
    expect((await reader.getRun(workflowId, runId)).headStep).toBe(0);
    await Promise.all([store.close(), reader.close()]);
  });

  it("in deleteRun after the fence: the run is gone, and deleteRun again keeps the fence it finds and removes the rest", async () => {
    const store = openStore(prefix);
    const workflowId = "crash-fenced";
    const runId = "run-1";
    await store.createRun(sampleRun(workflowId, runId), sampleStep(workflowId, runId, 0));
    for (let step = 1; step <= 3; step++)
      await store.appendStep(sampleStep(workflowId, runId, step));
    const { incarnation } = await storedDocument(workflowId, runId);

    const child = await dieBetweenWrites("fenced", workflowId, runId);
    expect(child.signal, child.stderr).toBe("SIGKILL");
    const runKeys = `${prefix}v1/runs/${workflowId}/${runId}/`;
    const stepKey = (step: number) =>
      `${runKeys}${incarnation}/${String(step).padStart(12, "0")}.json`;
    const fence = Array.from({ length: FENCE_WINDOW }, (_, i) => stepKey(4 + i));
    expect(await listKeys(raw, config.bucket, runKeys)).toEqual([
      ...[0, 1, 2, 3].map(stepKey),
      ...fence,
      `${runKeys}run.json`,
    ]);
    // The writer that held the head meets the fence.
    await expect(store.appendStep(sampleStep(workflowId, runId, 4))).rejects.toMatchObject({
      code: "RUN_NOT_FOUND",
    });

    const reader = openStore(prefix);
    await expect(reader.getRun(workflowId, runId)).rejects.toMatchObject({ code: "RUN_NOT_FOUND" });
    await reader.deleteRun(workflowId, runId);
    // The same fence, not a second one above it, and every step replaced by a fence too.
    expect(await listKeys(raw, config.bucket, runKeys)).toEqual([
      ...[0, 1, 2, 3].map(stepKey),
      ...fence,
    ]);
    for (const key of await listKeys(raw, config.bucket, runKeys)) {
      const { Metadata } = await raw.send(
        new HeadObjectCommand({ Bucket: config.bucket, Key: key }),
      );
      expect(Metadata?.[FENCE], key).toBeDefined();
    }
    expect(await listKeys(raw, config.bucket, `${prefix}v1/index/${workflowId}/`)).toEqual([]);
    await Promise.all([store.close(), reader.close()]);
  });
});
