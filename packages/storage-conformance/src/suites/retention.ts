/**
 * Optional capability `retention`: with `ttlSeconds`, a whole run (metadata
 * and every step) expires together after its last write.
 */
import { describe, expect, it } from "vitest";
import { type Harness, sampleStep, seedRun } from "../harness.js";

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return check();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function exists(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read();
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === "RUN_NOT_FOUND") return false;
    throw error;
  }
}

export function retentionSuite(h: Harness): void {
  describe("retention (capability: retention)", () => {
    it("a run expires whole, metadata and steps together, ttlSeconds after its last write", async (context) => {
      // Skipped by the manifest only, never by adapter name.
      if (!(await h.capabilities()).retention)
        return context.skip("the store does not declare `retention`");
      const store = await h.open({ ttlSeconds: 1 });
      const workflowId = h.workflowId("ttl");
      const runId = await seedRun(store, workflowId, 3);
      expect((await store.getRun(workflowId, runId)).headStep).toBe(3);
      const gone = await until(async () => {
        try {
          await store.getRun(workflowId, runId);
          return false;
        } catch (error) {
          return (error as { code?: string }).code === "RUN_NOT_FOUND";
        }
      }, 10_000);
      expect(gone).toBe(true);
      for (const step of [0, 3]) {
        await expect(store.getStep(workflowId, runId, step)).rejects.toMatchObject({
          code: "RUN_NOT_FOUND",
        });
      }
      await expect(store.getLatestStep(workflowId, runId)).rejects.toMatchObject({
        code: "RUN_NOT_FOUND",
      });
      expect((await store.listRuns(workflowId)).items).toEqual([]);
    });

    it("retention counts from the last write: an append keeps the run past the ttl counted from its creation", async (context) => {
      if (!(await h.capabilities()).retention)
        return context.skip("the store does not declare `retention`");
      // Margins of over a second on each side: the run is read back 0.75 s after the
      // ttl counted from createRun has run out, and at least 1.75 s before the ttl
      // counted from the append does.
      const ttlSeconds = 4;
      const store = await h.open({ ttlSeconds });
      const workflowId = h.workflowId("ttl-last-write");
      const createdAt = Date.now();
      const runId = await seedRun(store, workflowId, 0);
      await sleep(2_500 - (Date.now() - createdAt));
      const appendedAt = Date.now();
      await store.appendStep(sampleStep(workflowId, runId, 1));
      await sleep(ttlSeconds * 1000 + 750 - (Date.now() - createdAt));
      const stillThere = await exists(() => store.getRun(workflowId, runId));
      const readAt = Date.now();
      if (readAt - appendedAt >= ttlSeconds * 1000) {
        // Too slow a machine to tell anything: the ttl from the append ran out as well.
        return context.skip(
          `the read came ${readAt - appendedAt} ms after the append, past the ttl`,
        );
      }
      expect(
        stillThere,
        `the run expired ${ttlSeconds} s after createRun although step 1 was appended ${appendedAt - createdAt} ms later`,
      ).toBe(true);
      expect((await store.getLatestStep(workflowId, runId)).step).toBe(1);
      const gone = await until(
        async () => !(await exists(() => store.getRun(workflowId, runId))),
        15_000,
      );
      expect(gone).toBe(true);
    });
  });
}
