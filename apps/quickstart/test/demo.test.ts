// `npm run demo` walks the story in separate processes and leaves in ./logs
// exactly the runs it describes.
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FileSystemStorage } from "@wf/storage-fs";
import { afterAll, describe, expect, it } from "vitest";

const demo = fileURLToPath(new URL("../dist/demo.js", import.meta.url));
const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const workdirs: string[] = [];

afterAll(async () => {
  for (const dir of workdirs) await rm(dir, { recursive: true, force: true });
});

async function workdir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "wf-quickstart-"));
  workdirs.push(dir);
  return dir;
}

describe("quickstart demo", () => {
  it("leaves the original run resumed from step 3 and a fork from step 3 in ./logs", async () => {
    const cwd = await workdir();
    const result = spawnSync(process.execPath, [demo], { cwd, encoding: "utf8" });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("INCOMPATIBLE_STATE: Cannot resume:");
    expect(result.stdout).toContain('node "outline" (Outline, completed) is missing');

    const storage = new FileSystemStorage({ dir: join(cwd, "logs") });
    const runs = (await storage.listRuns("article")).items;
    expect(runs).toHaveLength(2);
    const fork = runs.find((run) => run.forkedFrom !== null);
    const original = runs.find((run) => run.forkedFrom === null);
    expect(original).toMatchObject({ status: "completed", headStep: 11 });
    expect(fork).toMatchObject({
      status: "waiting_for_input",
      headStep: 6,
      forkedFrom: { runId: original?.runId, step: 3 },
    });
    const steps = (await storage.listSteps("article", original?.runId as string)).items;
    expect(steps.map((s) => [s.step, s.parent, s.previousNodeId])).toEqual([
      [0, null, null],
      [1, 0, "research"],
      [2, 1, "outline"],
      [3, 2, "draft"],
      [4, 3, "review"],
      [5, 4, "review"],
      [6, 5, "publish"],
      [7, 3, "review"],
      [8, 7, "revise"],
      [9, 8, "review"],
      [10, 9, "review"],
      [11, 10, "publish"],
    ]);
    const forkSteps = (await storage.listSteps("article", fork?.runId as string)).items;
    expect(forkSteps.map((s) => s.step)).toEqual([3, 4, 5, 6]);
    expect(forkSteps.at(-1)?.awaitingInput).toMatchObject({ requestId: "review" });
    await storage.close();
  });

  it("a command with a bad step number says what it expected and exits 2, writing nothing", async () => {
    const cwd = await workdir();
    const result = spawnSync(process.execPath, [cli, "fork", "some-run", "1.5"], {
      cwd,
      encoding: "utf8",
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('expected a step number, got "1.5"');
    expect(result.stderr).toContain("Usage: wf-quickstart");
    const storage = new FileSystemStorage({ dir: join(cwd, "logs") });
    expect((await storage.listWorkflows()).items).toEqual([]);
    await storage.close();
  });
});
