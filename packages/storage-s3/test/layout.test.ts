// What is stored where: the key layout, the objects' contents, and hostile ids kept inside their own run's keys.
import { sampleRun, sampleStep } from "@wf/storage-conformance";
import { afterAll, describe, expect, it } from "vitest";
import { DOCUMENT_REFRESH } from "../src/run-state.js";
import {
  listKeys,
  openStore,
  rawClient,
  readObject,
  removePrefix,
  s3Config,
  testPrefix,
} from "./helpers.js";

const prefix = testPrefix("layout");
const config = s3Config();
const raw = rawClient();
afterAll(async () => {
  raw.destroy();
  await removePrefix(prefix);
});

describe("key layout", () => {
  it("a run is its document, one object per step with zero-padded numbers, one entry per index, and a workflow marker", async () => {
    const store = openStore(prefix);
    const workflowId = "layout";
    const runId = "20260101_000000_000_0123456789ab";
    await store.createRun(sampleRun(workflowId, runId), sampleStep(workflowId, runId, 0));
    for (let step = 1; step <= 11; step++) {
      const status = step === 11 ? "completed" : "running";
      await store.appendStep(sampleStep(workflowId, runId, step, { status }));
    }
    const { incarnation } = JSON.parse(
      await readObject(raw, config.bucket, `${prefix}v1/runs/${workflowId}/${runId}/run.json`),
    ) as { incarnation: string };
    const keys = (await listKeys(raw, config.bucket, prefix)).map((key) =>
      key.slice(prefix.length),
    );
    const run = `v1/runs/${workflowId}/${runId}/`;
    const steps = keys.filter((key) => key.startsWith(`${run}${incarnation}/`));
    // Listed in step order: 10 and 11 after 9.
    expect(steps).toEqual(
      Array.from(
        { length: 12 },
        (_, i) => `${run}${incarnation}/${String(i).padStart(12, "0")}.json`,
      ),
    );
    expect(keys).toContain(`${run}run.json`);
    const entries = keys.filter((key) => key.startsWith(`v1/index/${workflowId}/`));
    expect(entries.map((key) => key.split("/").slice(0, 4).join("/")).sort()).toEqual([
      `v1/index/${workflowId}/all`,
      `v1/index/${workflowId}/completed`,
    ]);
    expect(entries.find((key) => key.includes("/completed/"))).toMatch(
      new RegExp(`/${incarnation}-000000000011$`),
    );
    expect(keys.filter((key) => key.startsWith("v1/workflows/"))).toHaveLength(1);
    expect(keys).toHaveLength(12 + 1 + 2 + 1);
    await store.close();
  });

  it("the run document holds the metadata as of its last refresh, and a step object holds exactly its record", async () => {
    const store = openStore(prefix);
    const workflowId = "contents";
    const run = sampleRun(workflowId, "r");
    const step1 = sampleStep(workflowId, "r", 1, { shared: { text: "héllo \u0000 日本", n: 1.5 } });
    await store.createRun(run, sampleStep(workflowId, "r", 0));
    await store.appendStep(step1);
    const base = `${prefix}v1/runs/${workflowId}/r/`;
    const document = JSON.parse(await readObject(raw, config.bucket, `${base}run.json`));
    // Step 1 keeps the status: the document is left as createRun wrote it.
    expect(document).toEqual({
      layout: 1,
      incarnation: expect.stringMatching(/^[0-9a-f]{16}$/),
      run,
    });
    const stored = await readObject(
      raw,
      config.bucket,
      `${base}${document.incarnation}/000000000001.json`,
    );
    expect(stored).toBe(JSON.stringify(step1));
    // The append that leaves it DOCUMENT_REFRESH steps behind brings it up to date.
    let last = step1;
    for (let step = 2; step <= DOCUMENT_REFRESH; step++) {
      last = sampleStep(workflowId, "r", step);
      await store.appendStep(last);
    }
    expect(JSON.parse(await readObject(raw, config.bucket, `${base}run.json`))).toEqual({
      ...document,
      run: { ...run, headStep: DOCUMENT_REFRESH, updatedAt: last.createdAt },
    });
    await store.close();
  });

  it("hostile ids are encoded into their own run's keys, never reaching outside the prefix or another run", async () => {
    const store = openStore(prefix);
    const workflowId = "../hostile/wf";
    const runIds = ["../../escape", "a/b", ".", "..", "x%2F..%2Fy", "a!2Fb", "日本", "C:\\x"];
    for (const runId of runIds) {
      await store.createRun(
        sampleRun(workflowId, runId),
        sampleStep(workflowId, runId, 0, { shared: { runId } }),
      );
    }
    const keys = (await listKeys(raw, config.bucket, prefix)).map((key) =>
      key.slice(prefix.length),
    );
    const mine = keys.filter((key) => key.startsWith("v1/runs/..!2Fhostile!2Fwf/"));
    expect(mine).toHaveLength(runIds.length * 2);
    for (const key of keys) {
      expect(key.split("/")).not.toContain("..");
      expect(key.split("/")).not.toContain(".");
      expect(key).not.toContain("//");
    }
    for (const runId of runIds) {
      expect((await store.getStep(workflowId, runId, 0)).shared).toEqual({ runId });
    }
    const listed = (await store.listRuns(workflowId)).items.map((r) => r.runId);
    expect(listed.sort()).toEqual([...runIds].sort());
    await store.close();
  });
});
