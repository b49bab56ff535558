// Listings continue S3 listings past 1,000 objects, skip or clear stale index entries, and check their options and cursors before any request.
import { PutObjectCommand } from "@aws-sdk/client-s3";
import type { RunMetadata, RunStatus } from "@wf/core";
import { encodeCursor } from "@wf/core/storage";
import { collectPages, sampleRun, sampleStep } from "@wf/storage-conformance";
import { afterAll, describe, expect, it } from "vitest";
import { mapLimited } from "../src/concurrency.js";
import { KeyLayout } from "../src/key-layout.js";
import {
  listKeys,
  openStore,
  rawClient,
  readObject,
  removePrefix,
  s3Config,
  testPrefix,
} from "./helpers.js";

const prefix = testPrefix("listing");
const config = s3Config();
const raw = rawClient();
afterAll(async () => {
  raw.destroy();
  await removePrefix(prefix);
});

describe("listing", () => {
  it("listRuns continues S3 listings past 1,000 index entries, skipping those of runs never created", async () => {
    const store = openStore(prefix);
    const workflowId = "many";
    const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString();
    const created = async (runId: string, second: number) => {
      await store.createRun(
        sampleRun(workflowId, runId, { createdAt: at(second) }),
        sampleStep(workflowId, runId, 0),
      );
      return runId;
    };
    const older = [await created("old-1", 1), await created("old-2", 2)];
    const newer = [await created("new-1", 8), await created("new-2", 9)];
    // Between them in listing order: the entries of 1,000 createRun calls for one id that
    // all died before writing the run document, so no run exists behind them.
    const layout = new KeyLayout(prefix);
    const ghost = layout.order(at(5), "ghost");
    await mapLimited(
      Array.from({ length: 1_000 }, (_, i) => i),
      32,
      (i) =>
        raw.send(
          new PutObjectCommand({
            Bucket: config.bucket,
            Key: layout.allEntry(workflowId, ghost, i.toString(16).padStart(16, "0")),
            Body: "{}",
          }),
        ),
    );
    const index = await listKeys(raw, config.bucket, layout.indexPrefix(workflowId));
    expect(index).toHaveLength(1_004);

    const page = await store.listRuns(workflowId, { limit: 1_000 });
    expect(page.items.map((run: RunMetadata) => run.runId)).toEqual([
      ...newer.reverse(),
      ...older.reverse(),
    ]);
    expect(page.nextCursor).toBeNull();
    const paged = await collectPages((cursor) => store.listRuns(workflowId, { limit: 1, cursor }));
    expect(paged.map((run) => run.runId)).toEqual(page.items.map((run) => run.runId));
    await store.close();
  });

  it("listRuns by status skips entries its runs have left, clears those, and keeps the run under its status", async () => {
    const store = openStore(prefix);
    const workflowId = "stale";
    const runId = "r";
    await store.createRun(sampleRun(workflowId, runId), sampleStep(workflowId, runId, 0));
    await store.appendStep(sampleStep(workflowId, runId, 1, { status: "waiting_for_input" }));
    await store.appendStep(sampleStep(workflowId, runId, 2));
    // A writer that died before removing its entry would leave this: the run entered
    // "failed" at step 1 as far as the index knows, but step 1 says otherwise.
    const { incarnation } = JSON.parse(
      await readObject(raw, config.bucket, `${prefix}v1/runs/${workflowId}/${runId}/run.json`),
    ) as { incarnation: string };
    const running = await listKeys(raw, config.bucket, `${prefix}v1/index/${workflowId}/running/`);
    const stale = (running[0] as string)
      .replace("/running/", "/failed/")
      .replace(/-\d{12}$/, "-000000000001");
    expect(stale).toContain(incarnation);
    await raw.send(new PutObjectCommand({ Bucket: config.bucket, Key: stale, Body: "{}" }));

    expect((await store.listRuns(workflowId, { status: "failed" })).items).toEqual([]);
    expect(await listKeys(raw, config.bucket, `${prefix}v1/index/${workflowId}/failed/`)).toEqual(
      [],
    );
    expect(
      (await store.listRuns(workflowId, { status: "running" })).items.map((r) => r.runId),
    ).toEqual([runId]);
    expect((await store.listRuns(workflowId, { status: "waiting_for_input" })).items).toEqual([]);
    await store.close();
  });

  it("listing options are checked before any request: a bogus status is a TypeError, a cursor this store did not hand out INVALID_CURSOR", async () => {
    const store = openStore(prefix);
    const listings: [string, () => Promise<unknown>, string][] = [
      ["status", () => store.listRuns("wf", { status: "bogus" as RunStatus }), "TypeError"],
      ["status", () => store.listRuns("wf", { status: 3 as unknown as RunStatus }), "TypeError"],
      ["limit", () => store.listSteps("wf", "r", { limit: 0 }), "RangeError"],
    ];
    const forged: [string, (cursor: string) => Promise<unknown>, string[]][] = [
      [
        "listRuns",
        (cursor) => store.listRuns("wf", { cursor }),
        [
          "garbage!",
          encodeCursor(7),
          encodeCursor(["2026-01-01T00:00:00.000Z", "a/b"]),
          encodeCursor(["2026-01-01T00:00:00.000Z", "x".repeat(10_000)]),
          encodeCursor(["9".repeat(5_000), "r"]),
        ],
      ],
      [
        "listSteps",
        (cursor) => store.listSteps("wf", "r", { cursor }),
        [encodeCursor(10 ** 12), encodeCursor(1.5), encodeCursor(["a", "b"])],
      ],
      [
        "listWorkflows",
        (cursor) => store.listWorkflows({ cursor }),
        [encodeCursor("../other"), encodeCursor("x".repeat(10_000)), encodeCursor(3)],
      ],
    ];
    for (const [name, list, cursors] of forged) {
      for (const cursor of cursors) {
        listings.push([`${name} ${cursor.slice(0, 24)}`, () => list(cursor), "INVALID_CURSOR"]);
      }
    }
    for (const [what, call, expected] of listings) {
      const error = await call().then(
        () => null,
        (failure: unknown) => failure as Error & { code?: string },
      );
      expect(error?.code ?? error?.name, what).toBe(expected);
    }
    expect(store.requestsSent).toBe(0);
    await store.close();
  });

  it("listRuns by status reads in full only the runs its status index names, and only the document of the others", async () => {
    const writer = openStore(prefix);
    const workflowId = "by-status";
    const completed: string[] = [];
    for (let i = 0; i < 6; i++) {
      const runId = `done-${i}`;
      await writer.createRun(sampleRun(workflowId, runId), sampleStep(workflowId, runId, 0));
      await writer.appendStep(sampleStep(workflowId, runId, 1, { status: "completed" }));
      completed.push(runId);
    }
    await writer.createRun(sampleRun(workflowId, "live"), sampleStep(workflowId, "live", 0));
    const reader = openStore(prefix);
    const page = await reader.listRuns(workflowId, { status: "running" });
    expect(page.items.map((run) => run.runId)).toEqual(["live"]);
    // Two listings (all runs, running ones), 7 documents, and the search past the live run's
    // document (3 HEADs at once); reading every run in full would take 7 searches.
    expect(reader.requestsSent).toBe(2 + 7 + 3);
    await Promise.all([writer.close(), reader.close()]);
  });
});
