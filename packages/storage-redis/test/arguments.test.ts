// Arguments are checked before anything is sent, the same way on every
// store: core's id rule on every method (this store used to accept any id of
// up to 1,024 characters), forged cursors as INVALID_CURSOR, a status outside
// the enum as a TypeError naming the statuses.
import { MAX_ID_LENGTH, type RunStatus } from "@wf/core";
import { encodeCursor } from "@wf/core/storage";
import { freePort } from "@wf/test-services";
import { describe, expect, it } from "vitest";
import { RedisStorage } from "../src/index.js";
import {
  recordingLogger,
  redisUrl,
  rejection,
  sampleRun,
  sampleStep,
  seedRun,
  uniquePrefix,
} from "./helpers.js";

/** Every method taking ids, with `workflowId` and `runId`. */
function idCalls(
  storage: RedisStorage,
  workflowId: string,
  runId: string,
): [string, () => Promise<unknown>][] {
  return [
    [
      "createRun",
      () => storage.createRun(sampleRun(workflowId, runId), sampleStep(workflowId, runId, 0)),
    ],
    ["appendStep", () => storage.appendStep(sampleStep(workflowId, runId, 1))],
    ["getRun", () => storage.getRun(workflowId, runId)],
    ["getStep", () => storage.getStep(workflowId, runId, 0)],
    ["getLatestStep", () => storage.getLatestStep(workflowId, runId)],
    ["listSteps", () => storage.listSteps(workflowId, runId)],
    ["listRuns", () => storage.listRuns(workflowId)],
    ["deleteRun", () => storage.deleteRun(workflowId, runId)],
  ];
}

describe("arguments are checked before anything is sent", () => {
  it("ids outside core's rule are INVALID_ID on every method, even with the server unreachable", async () => {
    const storage = new RedisStorage({
      url: `redis://127.0.0.1:${await freePort()}`,
      timeoutMs: 20_000,
      logger: recordingLogger(),
    });
    const tooLong = "x".repeat(MAX_ID_LENGTH + 1);
    for (const bad of [tooLong, "x".repeat(1024), "", "__proto__", "{tag}", "a:b"]) {
      for (const [workflowId, runId] of [
        [bad, "run"],
        ["wf", bad],
      ]) {
        for (const [method, call] of idCalls(storage, workflowId as string, runId as string)) {
          if (method === "listRuns" && workflowId === "wf") continue;
          expect((await rejection(call())).code, `${method} ${bad.slice(0, 10)}`).toBe(
            "INVALID_ID",
          );
        }
      }
    }
    await storage.close();
  });

  it("a forged cursor is INVALID_CURSOR on every listing, and a status outside the enum a TypeError naming the statuses", async () => {
    const storage = new RedisStorage({
      url: redisUrl(),
      prefix: uniquePrefix("arguments"),
      logger: recordingLogger(),
    });
    const runId = await seedRun(storage, "wf", 2);
    const forged = ["garbage!", encodeCursor({ forged: true }), encodeCursor(["a"]), "e30"];
    const listings: [string, (cursor: string) => Promise<unknown>][] = [
      ["listSteps", (cursor) => storage.listSteps("wf", runId, { cursor })],
      ["listRuns", (cursor) => storage.listRuns("wf", { cursor })],
      ["listWorkflows", (cursor) => storage.listWorkflows({ cursor })],
    ];
    for (const [name, list] of listings) {
      for (const cursor of forged) {
        expect((await rejection(list(cursor))).code, `${name} ${cursor}`).toBe("INVALID_CURSOR");
      }
    }
    const error = await rejection(storage.listRuns("wf", { status: "bogus" as RunStatus }));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toContain("running, waiting_for_input, completed, failed, cancelled");
    await storage.deleteRun("wf", runId);
    await storage.close();
  });
});
