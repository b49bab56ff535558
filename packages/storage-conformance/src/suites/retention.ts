/**
 * Optional capability `retention`: with `ttlSeconds`, a whole run (metadata
 * and every step) expires together after its last write.
 */
import { describe, expect, it } from "vitest";
import { type Harness, seedRun } from "../harness.js";

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return check();
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
  });
}
