import { mkdir, mkdtemp, open, readdir, rename, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileSystemStorage } from "@wf/storage-fs";
import type { BenchTarget } from "../target.js";

/** Total bytes of the files under `dir`. */
async function treeSize(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? await treeSize(path) : (await stat(path)).size;
  }
  return total;
}

/**
 * The filesystem store in a temp dir. Baseline: what a crash-safe append
 * needs at least: write a temp file, fsync it, rename it into place, fsync
 * the directory.
 */
export const target: BenchTarget = {
  name: "fs",
  async open() {
    const root = await mkdtemp(join(tmpdir(), "wf-bench-fs-"));
    const raw = join(root, "raw");
    const store = join(root, "store");
    await mkdir(raw);
    const directory = await open(raw, "r");
    return {
      storage: new FileSystemStorage({ dir: store }),
      async baselineWrite(bytes, i) {
        const temporary = join(raw, `.tmp-${i}`);
        const file = await open(temporary, "wx");
        await file.writeFile(bytes);
        await file.sync();
        await file.close();
        await rename(temporary, join(raw, `${String(i).padStart(12, "0")}.json`));
        await directory.sync();
      },
      bytesStored: () => treeSize(store),
      async close() {
        await directory.close();
        await rm(root, { recursive: true, force: true });
      },
    };
  },
};
