// The hot path in S3 requests, counted by SDK middleware: an append is two, loading the latest step and a fork cost the same at any history length.
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { WorkflowEngine } from "@wf/core";
import { sampleRun, sampleStep } from "@wf/storage-conformance";
import { afterAll, describe, expect, it } from "vitest";
import { countingWorkflow } from "./fixtures/counting-workflow.js";
import { openStore, rawClient, removePrefix, s3Config, testPrefix } from "./helpers.js";

const prefix = testPrefix("requests");
afterAll(() => removePrefix(prefix));

/** Requests `action` made through `store`. */
async function requestsOf(store: { requestsSent: number }, action: () => Promise<unknown>) {
  const before = store.requestsSent;
  await action();
  return store.requestsSent - before;
}

describe("requests per operation", () => {
  it("an append that keeps the status is two requests: the step, then the run document", async () => {
    const store = openStore(prefix);
    const workflowId = "append-cost";
    await store.createRun(sampleRun(workflowId, "r"), sampleStep(workflowId, "r", 0));
    for (let step = 1; step <= 5; step++) {
      expect(
        await requestsOf(store, () => store.appendStep(sampleStep(workflowId, "r", step))),
      ).toBe(2);
    }
    await store.close();
  });

  it("an append that changes the status also moves the run in the status index", async () => {
    const store = openStore(prefix);
    const workflowId = "status-cost";
    await store.createRun(sampleRun(workflowId, "r"), sampleStep(workflowId, "r", 0));
    // New entry before the step, then the document alongside listing and deleting the old entry.
    const completing = sampleStep(workflowId, "r", 1, { status: "completed" });
    expect(await requestsOf(store, () => store.appendStep(completing))).toBe(5);
    await store.close();
  });

  it("engine steps through a store that opened the run are two requests each, the same at step 5 and 120", async () => {
    const store = openStore(prefix);
    const definition = countingWorkflow("engine-cost", store, 1_000);
    const engine = await WorkflowEngine.create(definition);
    const measure = async () => {
      const reader = openStore(prefix);
      let opened!: WorkflowEngine;
      const open = await requestsOf(reader, async () => {
        opened = await WorkflowEngine.create({
          ...definition,
          storage: reader,
          runId: engine.runId,
        });
      });
      const step = await requestsOf(reader, () => opened.step());
      const latest = await requestsOf(reader, () =>
        reader.getLatestStep("engine-cost", engine.runId),
      );
      const fork = await requestsOf(reader, () =>
        WorkflowEngine.create({ ...definition, storage: reader, runId: engine.runId, fork: true }),
      );
      await reader.close();
      return { open, step, latest, fork };
    };
    while (engine.currentStep < 5) await engine.step();
    const early = await measure();
    const late = await (async () => {
      const reopened = await WorkflowEngine.create({ ...definition, runId: engine.runId });
      while (reopened.currentStep < 120) await reopened.step();
      return measure();
    })();
    // getRun (document, probe) + getLatestStep (document, then head and probe at once).
    expect(early).toEqual({ open: 5, step: 2, latest: 3, fork: 10 });
    expect(late).toEqual(early);
    await store.close();
  });

  it("requests of a client the store was handed are counted only when the store sends them, and the client is left unchanged", async () => {
    const client = rawClient();
    const middlewareBefore = client.middlewareStack.identify();
    const store = openStore(prefix, { client });
    await store.createRun(sampleRun("handed", "r"), sampleStep("handed", "r", 0));
    const sent = store.requestsSent;
    await client.send(new ListObjectsV2Command({ Bucket: s3Config().bucket, Prefix: prefix }));
    expect(store.requestsSent).toBe(sent);
    expect(client.middlewareStack.identify()).toEqual(middlewareBefore);
    await store.close();
    client.destroy();
  });
});
