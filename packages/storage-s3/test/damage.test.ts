// Damaged objects, made behind the store's back: every record and every piece of bookkeeping read back is checked, and damage is CORRUPT_RECORD naming its s3:// key.
import { DeleteObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { seedRun } from "@wf/storage-conformance";
import { afterAll, describe, expect, it } from "vitest";
import { KeyLayout } from "../src/key-layout.js";
import { openStore, rawClient, readObject, removePrefix, s3Config, testPrefix } from "./helpers.js";

const prefix = testPrefix("damage");
const { bucket } = s3Config();
const raw = rawClient();
const layout = new KeyLayout(prefix);
afterAll(async () => {
  raw.destroy();
  await removePrefix(prefix);
});

async function stepKey(workflowId: string, runId: string, step: number): Promise<string> {
  const keys = layout.run(workflowId, runId);
  const { incarnation } = JSON.parse(await readObject(raw, bucket, keys.document)) as {
    incarnation: string;
  };
  return layout.step(keys, incarnation, step);
}

async function failure(promise: Promise<unknown>) {
  return promise.then(
    () => {
      throw new Error("expected a failure");
    },
    (error: unknown) => error as Error & { code?: string; location?: string; reason?: string },
  );
}

describe("damage names its s3:// key", () => {
  it("a step record that is not a step record is CORRUPT_RECORD at s3://bucket/key", async () => {
    const store = openStore(prefix);
    const workflowId = "torn";
    const runId = await seedRun(store, workflowId, 2);
    const key = await stepKey(workflowId, runId, 1);
    await raw.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: '{"step":1}' }));
    const error = await failure(store.getStep(workflowId, runId, 1));
    expect(error).toMatchObject({ code: "CORRUPT_RECORD", location: `s3://${bucket}/${key}` });
    expect(error.message).toContain(`s3://${bucket}/${key}`);
    await store.close();
  });

  it("a run document whose metadata is another run's is CORRUPT_RECORD at its run.json", async () => {
    const store = openStore(prefix);
    const workflowId = "swapped";
    const runId = await seedRun(store, workflowId, 0);
    const other = await seedRun(store, workflowId, 0);
    const keys = layout.run(workflowId, runId);
    const otherDocument = await readObject(raw, bucket, layout.run(workflowId, other).document);
    await raw.send(
      new PutObjectCommand({ Bucket: bucket, Key: keys.document, Body: otherDocument }),
    );
    const error = await failure(store.getRun(workflowId, runId));
    expect(error).toMatchObject({
      code: "CORRUPT_RECORD",
      location: `s3://${bucket}/${keys.document}`,
    });
    expect(error.reason).toContain(other);
    await store.close();
  });

  it("a step whose metadata (the status readers probe) is outside the enum is CORRUPT_RECORD, on getRun and in listRuns", async () => {
    const store = openStore(prefix);
    const workflowId = "bad-metadata";
    const runId = await seedRun(store, workflowId, 2);
    const key = await stepKey(workflowId, runId, 2);
    const body = await readObject(raw, bucket, key);
    await raw.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        Metadata: { "wf-status": "bogus", "wf-created-at": "2026-01-01T00%3A00%3A00.002Z" },
      }),
    );
    const reader = openStore(prefix);
    const error = await failure(reader.getRun(workflowId, runId));
    expect(error).toMatchObject({ code: "CORRUPT_RECORD", location: `s3://${bucket}/${key}` });
    expect(error.reason).toContain("x-amz-meta-wf-status");
    const page = await reader.listRuns(workflowId);
    expect(page.items).toEqual([]);
    expect(page.damaged).toEqual([
      { runId, location: `s3://${bucket}/${key}`, reason: error.reason },
    ]);
    await Promise.all([store.close(), reader.close()]);
  });

  it("a step missing below the head is CORRUPT_RECORD naming the missing key, on getStep, listSteps and getRun", async () => {
    const store = openStore(prefix);
    const workflowId = "hole";
    const runId = await seedRun(store, workflowId, 9);
    const key = await stepKey(workflowId, runId, 1);
    await raw.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    const reader = openStore(prefix);
    for (const call of [
      () => reader.getStep(workflowId, runId, 1),
      () => reader.listSteps(workflowId, runId),
      // The document still says head 0; the search past it looks at steps 1, 8 and 16 at
      // once, and step 8 exists. (A hole it does not look past goes unseen by getRun.)
      () => reader.getRun(workflowId, runId),
    ]) {
      expect(await failure(call())).toMatchObject({
        code: "CORRUPT_RECORD",
        location: `s3://${bucket}/${key}`,
      });
    }
    expect(await failure(reader.getStep(workflowId, runId, 10))).toMatchObject({
      code: "STEP_NOT_FOUND",
    });
    expect((await reader.getStep(workflowId, runId, 2)).shared).toEqual({ step: 2 });
    await Promise.all([store.close(), reader.close()]);
  });

  it("the last step of a listing missing below the document's head is CORRUPT_RECORD", async () => {
    const store = openStore(prefix);
    const workflowId = "short";
    const runId = await seedRun(store, workflowId, 17);
    // Step 16 refreshed the document to head 16; remove the two last steps.
    for (const step of [16, 17]) {
      await raw.send(
        new DeleteObjectCommand({ Bucket: bucket, Key: await stepKey(workflowId, runId, step) }),
      );
    }
    const error = await failure(store.listSteps(workflowId, runId, { limit: 1000 }));
    expect(error).toMatchObject({
      code: "CORRUPT_RECORD",
      location: `s3://${bucket}/${await stepKey(workflowId, runId, 16)}`,
    });
    await store.close();
  });
});
