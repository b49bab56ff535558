// Core's default store: WorkflowEngine.create without `storage` journals into ./logs
// through this package. Tested here, not in core, because this package is built after
// core (it depends on it), so turbo has it built when these tests run.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Node, type SharedState, WorkflowEngine } from "@wf/core";
import { describe, expect, it } from "vitest";

/** A node that records its visit in `shared.visited`. */
class Visit extends Node<SharedState> {
  override cleanup(shared: SharedState): void {
    shared.visited = [...((shared.visited as string[] | undefined) ?? []), this.id];
  }
}

describe("default storage", () => {
  it("without storage, the journal goes to ./logs through @wf/storage-fs", async () => {
    const nodes = [new Visit({ id: "a" })];
    const originalCwd = process.cwd();
    const workDir = mkdtempSync(join(tmpdir(), "wf-core-default-storage-"));
    try {
      process.chdir(workDir);
      const engine = await WorkflowEngine.create({ workflowId: "w", nodes });
      await expect(engine.run()).resolves.toBe("completed");
      expect(engine.storage.constructor.name).toBe("FileSystemStorage");
      await engine.storage.close();

      expect(readdirSync(join(workDir, "logs"), { recursive: true }).length).toBeGreaterThan(0);
      const reopened = await WorkflowEngine.create({ workflowId: "w", nodes, runId: engine.runId });
      expect(reopened.status).toBe("completed");
      expect(reopened.shared).toEqual({ visited: ["a"] });
      expect((await reopened.history()).map((r) => r.step)).toEqual([0, 1]);
      await reopened.storage.close();
    } finally {
      process.chdir(originalCwd);
      rmSync(workDir, { recursive: true, force: true });
    }
  });
});
