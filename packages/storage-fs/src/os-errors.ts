import { StorageMisconfiguredError, StorageUnavailableError } from "@wf/core";

/** One constant names the adapter in every error it raises. */
export const STORAGE_NAME = "FileSystemStorage";

/**
 * The disk is full: a retry succeeds once someone frees space, so the store is
 * unavailable, not misconfigured.
 */
const OUT_OF_SPACE: Record<string, string> = {
  ENOSPC: "no space left on the device",
  EDQUOT: "the disk quota is used up",
};

/**
 * The journal directory refuses for good until someone changes the
 * permissions, the mount or `dir`: retrying the same call cannot help.
 */
const REFUSED: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "the file system is read-only",
};

/** A disk that fails reads or writes: perhaps for a moment, perhaps for good; someone must look. */
const FAILING: Record<string, string> = {
  EIO: "input/output error",
};

export function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** The path, or a parent of it, does not exist. */
export function isMissing(error: unknown): boolean {
  const code = errnoCode(error);
  return code === "ENOENT" || code === "ENOTDIR";
}

/**
 * Node reports the errors of an open file (a write, an fsync) without its
 * path; this adds it, so the error can name the file being written.
 */
export function withPath(error: unknown, path: string): unknown {
  if (error instanceof Error && errnoCode(error) !== undefined && !("path" in error)) {
    Object.assign(error, { path });
  }
  return error;
}

/** Where an OS error happened: its path, and the other end of a link or rename. */
function whereOf(error: unknown): string {
  const { path, dest } = error as { path?: unknown; dest?: unknown };
  if (typeof path !== "string") return "the journal directory";
  return typeof dest === "string" ? `${path} (to ${dest})` : path;
}

/**
 * Turns an OS error that makes the disk unusable into a WorkflowError naming
 * the path and saying what to do: STORAGE_UNAVAILABLE when it may pass (a full
 * disk, a failing one), STORAGE_MISCONFIGURED when it cannot (no permission, a
 * read-only file system). Any other error is returned as it is.
 */
export function toStorageError(error: unknown): unknown {
  const code = errnoCode(error);
  if (code === undefined) return error;
  const where = whereOf(error);
  const full = OUT_OF_SPACE[code];
  if (full !== undefined) {
    const quota = code === "EDQUOT" ? " (or raise the quota)" : "";
    return new StorageUnavailableError(
      STORAGE_NAME,
      `${full} (${code}) writing ${where}: free space on that file system${quota}, then retry`,
      { cause: error },
    );
  }
  const refused = REFUSED[code];
  if (refused !== undefined) {
    const fix =
      code === "EROFS"
        ? "remount it read-write"
        : "give the user running this process read and write access to the journal directory";
    return new StorageMisconfiguredError(
      STORAGE_NAME,
      `${refused} (${code}) at ${where}: ${fix}, or pass another \`dir\``,
      { cause: error },
    );
  }
  const failing = FAILING[code];
  if (failing !== undefined) {
    return new StorageUnavailableError(
      STORAGE_NAME,
      `${failing} (${code}) at ${where}: the disk may be failing; check it, then retry`,
      { cause: error },
    );
  }
  return error;
}
