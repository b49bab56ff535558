// The delete fence: once deleteRun has completed no append is acknowledged, from any store instance; a deleted run leaves only its fence; damaged runs can be deleted.
import { HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { hasErrorCode } from "@wf/core";
import { sampleRun, sampleStep, seedRun } from "@wf/storage-conformance";
import { afterAll, describe, expect, it } from "vitest";
import { FENCE } from "../src/documents.js";
import { KeyLayout } from "../src/key-layout.js";
import { FENCE_WINDOW } from "../src/run-deletion.js";
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

const prefix = testPrefix("deletion");
const { bucket } = s3Config();
const raw = rawClient();
const layout = new KeyLayout(prefix);
afterAll(async () => {
  raw.destroy();
  await removePrefix(prefix);
});

async function incarnationOf(workflowId: string, runId: string): Promise<string> {
  const document = await readObject(raw, bucket, layout.run(workflowId, runId).document);
  return (JSON.parse(document) as { incarnation: string }).incarnation;
}

/** Every index entry of a workflow, in every index. */
function indexOf(workflowId: string): string {
  return `${layout.root}index/${workflowId}/`;
}

/** What is left of a run and its workflow: keys under the run, its index entries, the workflow's marker. */
async function leftOf(workflowId: string, runId: string) {
  const keys = layout.run(workflowId, runId);
  const underRun = await listKeys(raw, bucket, keys.dir);
  const fences: string[] = [];
  const others: string[] = [];
  for (const key of underRun) {
    const { Metadata } = await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    (Metadata?.[FENCE] !== undefined ? fences : others).push(key);
  }
  return {
    fences,
    others,
    entries: await listKeys(raw, bucket, indexOf(workflowId)),
    marker: (await listKeys(raw, bucket, layout.marker(workflowId))).length > 0,
  };
}

describe("the delete fence", () => {
  it("a writer in another store instance that holds the head is refused on every append after the delete, and nothing of it lands", async () => {
    const writer = openStore(prefix);
    const deleter = openStore(prefix);
    const workflowId = "fence-head";
    const runId = await seedRun(writer, workflowId, 3);
    const incarnation = await incarnationOf(workflowId, runId);
    await deleter.deleteRun(workflowId, runId);
    // Past a document refresh too: the writer's memory of the run is what it would append on.
    for (let step = 4; step <= 4 + DOCUMENT_REFRESH; step++) {
      await expect(
        writer.appendStep(sampleStep(workflowId, runId, step)),
        `step ${step}`,
      ).rejects.toMatchObject({ code: "RUN_NOT_FOUND" });
    }
    const left = await leftOf(workflowId, runId);
    expect(left.others).toEqual([]);
    // Every step (0-3) replaced by a fence, and the window above the head (4 and up).
    expect(left.fences).toEqual(
      Array.from({ length: 4 + FENCE_WINDOW }, (_, i) =>
        layout.step(layout.run(workflowId, runId), incarnation, i),
      ),
    );
    expect(left.entries).toEqual([]);
    expect(left.marker).toBe(false);
    await Promise.all([writer.close(), deleter.close()]);
  });

  it("a delete racing a running appender: no append started after the delete completed is acknowledged, and only the fence is left", async () => {
    const appender = openStore(prefix);
    const deleter = openStore(prefix);
    const workflowId = "fence-race";
    const runId = await seedRun(appender, workflowId, 1);
    let deleted = false;
    const outcomes: { step: number; afterDelete: boolean; code: string | null }[] = [];
    const appending = (async () => {
      for (let step = 2; step < 2_000; step++) {
        const afterDelete = deleted;
        try {
          await appender.appendStep(sampleStep(workflowId, runId, step));
          outcomes.push({ step, afterDelete, code: null });
        } catch (error) {
          outcomes.push({ step, afterDelete, code: (error as { code?: string }).code ?? "?" });
          if (!hasErrorCode(error, "RUN_NOT_FOUND")) throw error;
          // Refused: the run is gone. Keep trying a few times once the delete is known to be done.
          if (outcomes.filter((o) => o.afterDelete).length >= 3) return;
          step -= 1;
        }
      }
    })();
    // Let the appender get going, then delete under it (or see it fail at once).
    let stopped = false;
    const stop = () => {
      stopped = true;
    };
    appending.then(stop, stop);
    while (outcomes.length < 3 && !stopped) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await deleter.deleteRun(workflowId, runId);
    deleted = true;
    await appending;
    const after = outcomes.filter((o) => o.afterDelete);
    expect(after.length).toBeGreaterThanOrEqual(3);
    expect(after.every((o) => o.code === "RUN_NOT_FOUND")).toBe(true);
    const left = await leftOf(workflowId, runId);
    expect(left.others).toEqual([]);
    expect(left.entries).toEqual([]);
    // Every step the run had, acknowledged ones included, is a fence now, with no
    // free key below the top of the window.
    const fenced = left.fences.map((key) => Number(key.slice(-17, -5))).sort((a, b) => a - b);
    expect(fenced).toEqual(Array.from({ length: fenced.length }, (_, i) => i));
    const acknowledged = outcomes.filter((o) => o.code === null).map((o) => o.step);
    expect(Math.max(1, ...acknowledged)).toBeLessThan(fenced.length);
    await Promise.all([appender.close(), deleter.close()]);
  });

  it("a writer that had already lost the head before the delete is refused on every append after it, and nothing of it lands", async () => {
    const loser = openStore(prefix);
    const winner = openStore(prefix);
    const deleter = openStore(prefix);
    const workflowId = "fence-stale";
    const runId = await seedRun(loser, workflowId, 2);
    // The winner moves the run on; the loser still remembers head 2.
    expect((await winner.getLatestStep(workflowId, runId)).step).toBe(2);
    for (let step = 3; step <= 5; step++) {
      await winner.appendStep(sampleStep(workflowId, runId, step));
    }
    await deleter.deleteRun(workflowId, runId);
    for (let step = 3; step <= 2 + DOCUMENT_REFRESH; step++) {
      await expect(
        loser.appendStep(sampleStep(workflowId, runId, step)),
        `step ${step}`,
      ).rejects.toMatchObject({ code: "RUN_NOT_FOUND" });
    }
    const left = await leftOf(workflowId, runId);
    expect(left.others).toEqual([]);
    expect(left.entries).toEqual([]);
    await Promise.all([loser.close(), winner.close(), deleter.close()]);
  });

  it("a run created again under the same id never meets the old fence", async () => {
    const store = openStore(prefix);
    const workflowId = "fence-recreate";
    const runId = await seedRun(store, workflowId, 2);
    await store.deleteRun(workflowId, runId);
    await seedRun(store, workflowId, 2 + 2 * FENCE_WINDOW, runId);
    expect((await store.getRun(workflowId, runId)).headStep).toBe(2 + 2 * FENCE_WINDOW);
    expect((await store.listSteps(workflowId, runId)).items).toHaveLength(3 + 2 * FENCE_WINDOW);
    await store.deleteRun(workflowId, runId);
    const left = await leftOf(workflowId, runId);
    expect(left.others).toEqual([]);
    // Per deleted incarnation: a fence for each of its steps and the window above.
    expect(left.fences).toHaveLength(3 + FENCE_WINDOW + (3 + 2 * FENCE_WINDOW) + FENCE_WINDOW);
    await store.close();
  });
});

describe("deleting a damaged run", () => {
  for (const [what, damage] of [
    ["whose document is not JSON", () => "not json at all"],
    [
      "whose metadata is not a run's",
      (document: string) => JSON.stringify({ ...JSON.parse(document), run: {} }),
    ],
  ] as const) {
    it(`deleteRun removes a run ${what}: its steps, its index entries and the workflow's marker`, async () => {
      const store = openStore(prefix);
      const workflowId = `damaged-${what.length}`;
      const runId = await seedRun(store, workflowId, 3);
      await store.appendStep(sampleStep(workflowId, runId, 4, { status: "completed" }));
      const keys = layout.run(workflowId, runId);
      const text = damage(await readObject(raw, bucket, keys.document));
      await raw.send(new PutObjectCommand({ Bucket: bucket, Key: keys.document, Body: text }));
      await expect(store.getRun(workflowId, runId)).rejects.toMatchObject({
        code: "CORRUPT_RECORD",
      });
      // The all-runs entry and the completed one (the running one went when the run completed).
      expect(await listKeys(raw, bucket, indexOf(workflowId))).toHaveLength(2);

      await store.deleteRun(workflowId, runId);
      await expect(store.getRun(workflowId, runId)).rejects.toMatchObject({
        code: "RUN_NOT_FOUND",
      });
      const left = await leftOf(workflowId, runId);
      expect(left.others).toEqual([]);
      expect(left.fences).toHaveLength(5 + FENCE_WINDOW);
      expect(left.entries).toEqual([]);
      expect(left.marker).toBe(false);
      expect((await store.listWorkflows()).items).not.toContain(workflowId);
      await store.createRun(sampleRun(workflowId, runId), sampleStep(workflowId, runId, 0));
      expect((await store.getRun(workflowId, runId)).headStep).toBe(0);
      await store.close();
    });
  }
});
