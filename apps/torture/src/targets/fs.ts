import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../stores.js";
import type { DamageTarget, StoreTarget } from "../target.js";

/**
 * The journal's path of a record. The torture's ids (engine run ids, lowercase
 * workflow ids) are kept verbatim by the store's id encoding.
 */
function recordPath(dir: string, { workflowId, runId, record }: DamageTarget): string {
  const run = join(dir, `w-${workflowId}`, `r-${runId}`);
  return record === "metadata"
    ? join(run, "run.json")
    : join(run, "steps", `${String(record).padStart(12, "0")}.json`);
}

/** FileSystemStorage in a temporary directory, removed afterwards. */
export async function provision(label: string): Promise<StoreTarget> {
  const dir = await mkdtemp(join(tmpdir(), `wf-torture-${label}-`));
  const spec = { kind: "fs" as const, dir };
  return {
    kind: "fs",
    where: dir,
    spec,
    open: () => openStore(spec),
    async damage(target, text) {
      if (!/^[a-z0-9_-]+$/.test(`${target.workflowId}${target.runId}`)) {
        throw new TypeError("damage needs ids the store keeps verbatim on disk");
      }
      const path = recordPath(dir, target);
      // In place, as a failing disk would: head.json, a second name of the
      // head step's file, sees the damage too.
      if (text === null) await rm(path);
      else await writeFile(path, text);
    },
    async dispose() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}
