// The hot path in S3 requests, counted by SDK middleware: an append is one (two when the run document is due a refresh), loading the latest step and a fork cost the same at any history length.
import { ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { WorkflowEngine } from "@wf/core";
import { sampleRun, sampleStep } from "@wf/storage-conformance";
import { afterAll, describe, expect, it } from "vitest";
import { DOCUMENT_REFRESH } from "../src/run-state.js";
import { countingWorkflow } from "./fixtures/counting-workflow.js";
import { openStore, rawClient, readObject, removePrefix, s3Config, testPrefix } from "./helpers.js";

const prefix = testPrefix("requests");
afterAll(() => removePrefix(prefix));

/** Requests `action` made through `store`. */
async function requestsOf(store: { requestsSent: number }, action: () => Promise<unknown>) {
  const before = store.requestsSent;
  await action();
  return store.requestsSent - before;
}

describe("requests per operation", () => {
  it("an append that keeps the status is one request, the step; every DOCUMENT_REFRESH-th also rewrites the run document", async () => {
    const store = openStore(prefix);
    const workflowId = "append-cost";
    await store.createRun(sampleRun(workflowId, "r"), sampleStep(workflowId, "r", 0));
    const costs: number[] = [];
    for (let step = 1; step <= 3 * DOCUMENT_REFRESH; step++) {
      costs.push(
        await requestsOf(store, () => store.appendStep(sampleStep(workflowId, "r", step))),
      );
    }
    // The document is at step 0 after createRun: steps 16, 32 and 48 bring it up to date.
    expect(costs).toEqual(costs.map((_, i) => ((i + 1) % DOCUMENT_REFRESH === 0 ? 2 : 1)));
    expect((await store.getRun(workflowId, "r")).headStep).toBe(3 * DOCUMENT_REFRESH);
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

  it("engine steps through a store that opened the run are one request each, and reads cost the same at step 5 and 120", async () => {
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
    // open: getRun (document, then the search past it: the next step and the
    // window's middle and end at once, then a binary search of 3 HEADs) +
    // getLatestStep (document; it has not changed, so the next step after the
    // head getRun found; the head step). A step is the step alone (the
    // document is 5 and 8 steps behind here, no refresh due).
    expect(early).toEqual({ open: 10, step: 1, latest: 3, fork: 10 });
    expect(late).toEqual(early);
    await store.close();
  });

  it("a reader finds the head at every distance from the document's head, within a bounded number of requests", async () => {
    const writer = openStore(prefix);
    const workflowId = "probe-cost";
    await writer.createRun(sampleRun(workflowId, "r"), sampleStep(workflowId, "r", 0));
    for (let step = 1; step <= 2 * DOCUMENT_REFRESH + 3; step++) {
      await writer.appendStep(sampleStep(workflowId, "r", step));
      const reader = openStore(prefix);
      let run!: { headStep: number };
      // The document, then at most 3 HEADs at once and 4 in a row.
      expect(
        await requestsOf(reader, async () => {
          run = await reader.getRun(workflowId, "r");
        }),
      ).toBeLessThanOrEqual(8);
      expect(run.headStep).toBe(step);
      expect((await reader.getLatestStep(workflowId, "r")).step).toBe(step);
      await reader.close();
    }
    await writer.close();
  });

  it("a document left far behind (writers that died before refreshing it) is searched past in doubling windows", async () => {
    const store = openStore(prefix);
    const workflowId = "probe-far";
    await store.createRun(sampleRun(workflowId, "r"), sampleStep(workflowId, "r", 0));
    const { bucket } = s3Config();
    const raw = rawClient();
    const dir = `${prefix}v1/runs/${workflowId}/r/`;
    const { incarnation } = JSON.parse(await readObject(raw, bucket, `${dir}run.json`));
    const last = 5 * DOCUMENT_REFRESH + 7;
    for (let step = 1; step <= last; step++) {
      const record = sampleStep(workflowId, "r", step);
      await raw.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `${dir}${incarnation}/${String(step).padStart(12, "0")}.json`,
          Body: JSON.stringify(record),
          Metadata: { "wf-status": record.status, "wf-created-at": record.createdAt },
        }),
      );
    }
    raw.destroy();
    const reader = openStore(prefix);
    const requests = await requestsOf(reader, async () => {
      expect((await reader.getRun(workflowId, "r")).headStep).toBe(last);
    });
    // Windows of 16, 32, 64 (3 HEADs each), then 5 to search the last.
    expect(requests).toBeLessThanOrEqual(1 + 3 * 3 + 5);
    expect((await reader.getLatestStep(workflowId, "r")).step).toBe(last);
    // The next append continues, and brings the document up to date.
    expect(
      await requestsOf(reader, () => reader.appendStep(sampleStep(workflowId, "r", last + 1))),
    ).toBe(2);
    await store.close();
    await reader.close();
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
