import { StorageUnavailableError } from "@wf/core";

/** One constant names the adapter in every error it raises. */
export const STORAGE_NAME = "FileSystemStorage";

/**
 * OS errors that mean the journal directory cannot be used as it is (no
 * permission, disk full, read-only or failing disk); the caller should fix
 * the disk, not the data. EPERM is what Windows reports for many of these.
 */
const UNUSABLE = new Set(["EACCES", "EPERM", "ENOSPC", "EDQUOT", "EROFS", "EIO"]);

export function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** The path, or a parent of it, does not exist. */
export function isMissing(error: unknown): boolean {
  const code = errnoCode(error);
  return code === "ENOENT" || code === "ENOTDIR";
}

/** Turns an OS error that makes the disk unusable into STORAGE_UNAVAILABLE naming the path. */
export function toStorageError(error: unknown): unknown {
  const code = errnoCode(error);
  if (code === undefined || !UNUSABLE.has(code)) return error;
  const path = (error as { path?: unknown }).path;
  const where = typeof path === "string" ? ` at ${path}` : "";
  return new StorageUnavailableError(STORAGE_NAME, `${code}${where}`, { cause: error });
}
