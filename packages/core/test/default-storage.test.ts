// The default store: what create does without `storage` when @wf/storage-fs is missing.
// Its use when installed is tested in @wf/storage-fs (test/default-storage.test.ts),
// which is built after core and so can be imported there.
import { describe, expect, it } from "vitest";
import { loadDefaultStorage } from "../src/default-storage.js";
import { StorageMisconfiguredError } from "../src/index.js";

/** The error Node gives for `import("@wf/storage-fs")` when the package is not installed. */
function notInstalled(packageName: string): Error {
  return Object.assign(
    new Error(
      `Cannot find package '${packageName}' imported from /app/node_modules/@wf/core/dist/default-storage.js`,
    ),
    { code: "ERR_MODULE_NOT_FOUND" },
  );
}

describe("default storage", () => {
  it("without storage, create says how to install a default adapter that is missing", async () => {
    const missing = notInstalled("@wf/storage-fs");
    const error = await loadDefaultStorage(() => Promise.reject(missing)).then(
      () => null,
      (e: unknown) => e as StorageMisconfiguredError,
    );
    expect(error).toBeInstanceOf(StorageMisconfiguredError);
    expect(error?.code).toBe("STORAGE_MISCONFIGURED");
    expect(error?.message).toContain("npm install @wf/storage-fs");
    expect(error?.message).toContain("new MemoryStorage()");
    expect(error?.cause).toBe(missing);
  });

  it("a package the installed adapter lacks is the adapter's error, passed through", async () => {
    const dependencyMissing = notInstalled("some-dependency");
    await expect(loadDefaultStorage(() => Promise.reject(dependencyMissing))).rejects.toBe(
      dependencyMissing,
    );
  });
});
