// Two processes with eight engines each race one run to step 40: every step lands exactly once.
import { WorkflowEngine } from "@wf/core";
import { afterAll, expect, it } from "vitest";
import { countingWorkflow } from "./fixtures/counting-workflow.js";
import { openStore, removePrefix, runFixture, s3Config, testPrefix } from "./helpers.js";

const prefix = testPrefix("race");
afterAll(() => removePrefix(prefix));

const TARGET = 40;

it("two processes with eight engines each advance one run to step 40, no step lost or doubled", async () => {
  const store = openStore(prefix);
  const workflowId = "race";
  const engine = await WorkflowEngine.create(countingWorkflow(workflowId, store, TARGET));
  const args = [JSON.stringify(s3Config()), prefix, workflowId, engine.runId, String(TARGET), "8"];
  const children = await Promise.all([
    runFixture("race-worker.js", args),
    runFixture("race-worker.js", args),
  ]);
  const engines: { landed: number; conflicts: number }[] = [];
  for (const child of children) {
    expect(child.code, child.stderr).toBe(0);
    engines.push(...JSON.parse(child.stdout));
  }
  expect(engines).toHaveLength(16);
  expect(engines.reduce((sum, e) => sum + e.landed, 0)).toBe(TARGET);

  const steps = (await store.listSteps(workflowId, engine.runId, { limit: 1000 })).items;
  expect(steps.map((s) => s.step)).toEqual(Array.from({ length: TARGET + 1 }, (_, i) => i));
  for (const record of steps) {
    // Each step continues from the one before, with the count one higher: nothing was computed twice.
    expect(record.parent).toBe(record.step === 0 ? null : record.step - 1);
    expect(record.shared).toEqual({
      count: record.step,
      target: TARGET,
      trail: Array.from({ length: record.step }, (_, i) => i + 1),
    });
  }
  expect(await store.getRun(workflowId, engine.runId)).toMatchObject({
    headStep: TARGET,
    status: "completed",
  });
  await store.close();
});
