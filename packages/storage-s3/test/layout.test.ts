// What is stored where: the key layout, the objects' contents, and ids: core's rule on every method, and an encoding that keeps any string inside its run's keys.
import { MAX_ID_LENGTH } from "@wf/core";
import { sampleRun, sampleStep } from "@wf/storage-conformance";
import { afterAll, describe, expect, it } from "vitest";
import { KeyLayout } from "../src/key-layout.js";
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

  it("ids outside core's id rule are INVALID_ID on every method before any request, and nothing is stored", async () => {
    const store = openStore(prefix);
    const good = "ids-good";
    const outside = [
      "../../escape",
      "a/b",
      ".",
      "..",
      "__proto__",
      "日本",
      "x".repeat(MAX_ID_LENGTH + 1),
      "x".repeat(10_000),
      "\ud800",
    ];
    for (const bad of outside) {
      for (const [workflowId, runId] of [
        [good, bad],
        [bad, "r"],
      ] as const) {
        const calls: [string, () => Promise<unknown>][] = [
          [
            "createRun",
            () => store.createRun(sampleRun(workflowId, runId), sampleStep(workflowId, runId, 0)),
          ],
          ["appendStep", () => store.appendStep(sampleStep(workflowId, runId, 1))],
          ["getRun", () => store.getRun(workflowId, runId)],
          ["getStep", () => store.getStep(workflowId, runId, 0)],
          ["getLatestStep", () => store.getLatestStep(workflowId, runId)],
          ["listSteps", () => store.listSteps(workflowId, runId)],
          ["deleteRun", () => store.deleteRun(workflowId, runId)],
          ["listRuns", () => store.listRuns(workflowId)],
        ];
        for (const [name, call] of calls) {
          if (name === "listRuns" && workflowId === good) continue;
          await expect(
            call(),
            `${name}(${workflowId.slice(0, 20)}, ${runId.slice(0, 20)})`,
          ).rejects.toMatchObject({
            code: "INVALID_ID",
          });
        }
      }
    }
    expect(store.requestsSent).toBe(0);
    expect(await listKeys(raw, config.bucket, `${prefix}v1/runs/${good}/`)).toEqual([]);
    await store.close();
  });

  it("ids at the edges of the rule are stored verbatim, each in its own run's keys", async () => {
    const store = openStore(prefix);
    const workflowId = "edge.ids";
    const runIds = ["..a", "a..", ".a.", "-", "_", "a-_.b", "x".repeat(MAX_ID_LENGTH)];
    for (const runId of runIds) {
      await store.createRun(
        sampleRun(workflowId, runId),
        sampleStep(workflowId, runId, 0, { shared: { runId } }),
      );
    }
    const keys = (await listKeys(raw, config.bucket, `${prefix}v1/runs/${workflowId}/`)).map(
      (key) => key.slice(`${prefix}v1/runs/${workflowId}/`.length),
    );
    for (const runId of runIds) {
      expect(keys.filter((key) => key.split("/")[0] === runId)).toHaveLength(2);
      expect((await store.getStep(workflowId, runId, 0)).shared).toEqual({ runId });
    }
    expect(keys).toHaveLength(2 * runIds.length);
    await store.close();
  });

  it("the key encoding, kept behind the id rule, still holds any string inside its own run's keys", () => {
    const layout = new KeyLayout(prefix);
    const hostile = ["../../escape", "a/b", ".", "..", "x%2F..%2Fy", "a!2Fb", "日本", "C:\\x", ""];
    const dirs = new Set<string>();
    for (const runId of hostile.filter(Boolean)) {
      const { dir } = layout.run("../hostile/wf", runId);
      const segments = dir.slice(layout.root.length).split("/");
      expect(segments).toHaveLength(4); // runs, workflow, run, and the empty one after the last "/"
      expect(segments[0]).toBe("runs");
      for (const segment of segments.slice(1, 3)) {
        expect([".", "..", ""]).not.toContain(segment);
        expect(segment).toMatch(/^[\x21-\x7e]+$/);
      }
      dirs.add(dir);
    }
    expect(dirs.size).toBe(hostile.length - 1);
  });
});
