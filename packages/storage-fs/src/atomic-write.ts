import { randomBytes } from "node:crypto";
import { link, lstat, open, readdir, rm, unlink } from "node:fs/promises";
import { join } from "node:path";
import { errnoCode, withPath } from "./os-errors.js";

/**
 * Every write goes to a temporary name first and is published whole (by
 * link or rename), so no reader ever sees a torn record. Temporary names
 * start with TEMP_PREFIX, which no read ever looks at.
 */
export const TEMP_PREFIX = ".tmp-";

/**
 * A temporary entry older than this belongs to a writer that died, not to one
 * still writing (a write takes milliseconds), so it may be swept.
 */
export const STALE_TEMP_MS = 60_000;

/** A fresh temporary path in `dir`, unique across processes. */
export function tempPath(dir: string): string {
  return join(dir, `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString("hex")}`);
}

/** Creates `path` (which must not exist) with `text`, flushed to disk when `durable`. */
export async function writeNewFile(path: string, text: string, durable: boolean): Promise<void> {
  const file = await open(path, "wx");
  try {
    await file.writeFile(text, "utf8");
    // Flushed before it is published: otherwise a power loss could leave the
    // published name pointing at an empty or partial file.
    if (durable) await file.sync();
  } catch (error) {
    // A full disk shows here, not at open: name the file it could not write.
    throw withPath(error, path);
  } finally {
    await file.close();
  }
}

/**
 * Flushes the entries of `dir` (a new link, rename or file) to disk. Windows
 * cannot open a directory for syncing, and NTFS journals its metadata anyway.
 */
export async function syncDirectory(dir: string, durable: boolean): Promise<void> {
  if (!durable || process.platform === "win32") return;
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } catch (error) {
    throw withPath(error, dir);
  } finally {
    await handle.close();
  }
}

/**
 * Publishes the complete file `temp` as `target` unless `target` exists, and
 * removes the temporary name either way. `link` fails with EEXIST instead of
 * replacing, even against another process, which makes it the atomic
 * "create if absent" that a conditional append needs.
 */
export async function publishNewFile(temp: string, target: string): Promise<boolean> {
  try {
    await link(temp, target);
    return true;
  } catch (error) {
    if (errnoCode(error) === "EEXIST") return false;
    throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/**
 * Removes temporary entries in `dir` left by writers that died. Best effort:
 * a sweep that fails changes nothing a reader sees, and the next one retries.
 */
export async function removeStaleTemps(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  const cutoff = Date.now() - STALE_TEMP_MS;
  for (const name of names) {
    if (!name.startsWith(TEMP_PREFIX)) continue;
    const path = join(dir, name);
    try {
      if ((await lstat(path)).mtimeMs < cutoff) await rm(path, { recursive: true, force: true });
    } catch {
      // Swept by someone else meanwhile, or not ours to remove: leave it.
    }
  }
}
