// The retry path of a conditional write: AWS answers 409 ConditionalRequestConflict
// when conditional writes to one key overlap and asks for a retry. On a private
// server that injects those 409s, an append still lands exactly once, and a
// conflict that outlasts the retries fails as STORAGE_UNAVAILABLE without a half-written step.
import { collectPages, sampleRun, sampleStep } from "@wf/storage-conformance";
import { type PrivateS3, startS3 } from "@wf/test-services/s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3Storage } from "../src/index.js";
import { clientConfig } from "./helpers.js";

describe("409 ConditionalRequestConflict on conditional writes", () => {
  let server: PrivateS3;
  let store: S3Storage;
  beforeAll(async () => {
    server = await startS3();
    store = new S3Storage({
      bucket: server.config.bucket,
      clientConfig: clientConfig(server.config),
    });
  });
  afterAll(async () => {
    await store?.close();
    await server?.stop();
  });

  it("an append answered 409 twice is retried and stored exactly once", async () => {
    await store.createRun(sampleRun("wf", "retried"), sampleStep("wf", "retried", 0));
    const before = server.injectedConflicts;
    server.failNextConditionalWrites(2);
    await store.appendStep(sampleStep("wf", "retried", 1));
    expect(server.injectedConflicts - before).toBe(2);
    const steps = await collectPages((cursor) => store.listSteps("wf", "retried", { cursor }));
    expect(steps).toEqual([sampleStep("wf", "retried", 0), sampleStep("wf", "retried", 1)]);
    expect(await store.getRun("wf", "retried")).toMatchObject({ headStep: 1 });
    // The retried write was ours: the next append follows on, once.
    await store.appendStep(sampleStep("wf", "retried", 2));
    expect((await store.getLatestStep("wf", "retried")).step).toBe(2);
  });

  it("a createRun answered 409 is retried and the run is created once", async () => {
    server.failNextConditionalWrites(1);
    await store.createRun(sampleRun("wf", "created"), sampleStep("wf", "created", 0));
    expect(await store.getRun("wf", "created")).toEqual(sampleRun("wf", "created"));
    const again = store.createRun(sampleRun("wf", "created"), sampleStep("wf", "created", 0));
    await expect(again).rejects.toMatchObject({ code: "RUN_EXISTS" });
  });

  it("a conflict that outlasts the retries is STORAGE_UNAVAILABLE and stores no step", async () => {
    await store.createRun(sampleRun("wf", "given-up"), sampleStep("wf", "given-up", 0));
    server.failNextConditionalWrites(100);
    try {
      await expect(store.appendStep(sampleStep("wf", "given-up", 1))).rejects.toMatchObject({
        code: "STORAGE_UNAVAILABLE",
      });
    } finally {
      server.failNextConditionalWrites(0);
    }
    expect(await store.getRun("wf", "given-up")).toMatchObject({ headStep: 0 });
    const steps = await collectPages((cursor) => store.listSteps("wf", "given-up", { cursor }));
    expect(steps.map((record) => record.step)).toEqual([0]);
  });
});
