// Writers SIGKILLed between their writes: readers see exactly what was committed, and the next writer repairs and continues with nothing lost.
import { WorkflowEngine } from "@wf/core";
import { sampleRun, sampleStep } from "@wf/storage-conformance";
import { afterAll, describe, expect, it } from "vitest";
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
  moment: "append" | "create" | "delete",
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
    while (engine.currentStep < 3) await engine.step();

    const child = await dieBetweenWrites("append", workflowId, runId);
    expect(child.signal, child.stderr).toBe("SIGKILL");
    // What the dead writer left: step 4 is stored, the run document still says 3.
    expect((await storedDocument(workflowId, runId)).run.headStep).toBe(3);

    const reader = openStore(prefix);
    expect(await reader.getRun(workflowId, runId)).toMatchObject({
      headStep: 4,
      status: "running",
    });
    const step4 = await reader.getLatestStep(workflowId, runId);
    expect(step4).toMatchObject({ step: 4, parent: 3, shared: { count: 4 } });
    const listed = await reader.listRuns(workflowId, { status: "running" });
    expect(listed.items.map((run) => [run.runId, run.headStep, run.updatedAt])).toEqual([
      [runId, 4, step4.createdAt],
    ]);
    // Reading repaired nothing: reads never write.
    expect((await storedDocument(workflowId, runId)).run.headStep).toBe(3);

    // The writer that held head 3 loses step 4 to the dead one.
    await expect(engine.step()).rejects.toMatchObject({ code: "STEP_CONFLICT" });
    const next = await WorkflowEngine.create({
      ...countingWorkflow(workflowId, reader, 100),
      runId,
    });
    expect(next.currentStep).toBe(4);
    await next.step();
    const step5 = await reader.getStep(workflowId, runId, 5);
    expect((await storedDocument(workflowId, runId)).run).toMatchObject({
      headStep: 5,
      status: "running",
      updatedAt: step5.createdAt,
    });
    const steps = (await reader.listSteps(workflowId, runId)).items;
    expect(steps.map((s) => [s.step, s.parent, (s.shared as { count: number }).count])).toEqual([
      [0, null, 0],
      [1, 0, 1],
      [2, 1, 2],
      [3, 2, 3],
      [4, 3, 4],
      [5, 4, 5],
    ]);
    await Promise.all([store.close(), reader.close()]);
  });

  it("on the step that completes the run: it lists as completed only, and the stale entry is cleared", async () => {
    const store = openStore(prefix);
    const workflowId = "crash-complete";
    const engine = await WorkflowEngine.create(countingWorkflow(workflowId, store, 3));
    const { runId } = engine;
    while (engine.currentStep < 2) await engine.step();

    const child = await dieBetweenWrites("append", workflowId, runId);
    expect(child.signal, child.stderr).toBe("SIGKILL");
    expect((await storedDocument(workflowId, runId)).run).toMatchObject({
      headStep: 2,
      status: "running",
    });
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
    expect(await listKeys(raw, config.bucket, runKeys)).toEqual([]);
    expect(await listKeys(raw, config.bucket, `${prefix}v1/index/${workflowId}/`)).toEqual([]);
    expect((await reader.listWorkflows()).items).not.toContain(workflowId);
    await expect(reader.deleteRun(workflowId, runId)).rejects.toMatchObject({
      code: "RUN_NOT_FOUND",
    });
    await reader.createRun(sampleRun(workflowId, runId), sampleStep(workflowId, runId, 0));
    expect((await reader.getRun(workflowId, runId)).headStep).toBe(0);
    await Promise.all([store.close(), reader.close()]);
  });
});
