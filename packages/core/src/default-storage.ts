import { StorageMisconfiguredError } from "./errors.js";
import type { WorkflowStorage } from "./storage.js";

/** Where the journal goes when `storage` is not given. */
export const DEFAULT_LOG_DIR = "./logs";

/** The package that holds the default store, an optional peer dependency of core. */
export const DEFAULT_ADAPTER = "@wf/storage-fs";

/** What core needs of `@wf/storage-fs`, declared here because that package depends on core. */
export interface FileSystemModule {
  FileSystemStorage: new (options: { dir: string }) => WorkflowStorage;
}

/**
 * Imports the default adapter. The specifier is a literal so bundlers see
 * and include it; the `as string` keeps TypeScript from resolving the
 * package's types, which are not built yet when core is (it is built after
 * core, on which it depends). The emitted JavaScript keeps the literal.
 */
export const importDefaultAdapter = (): Promise<FileSystemModule> =>
  import("@wf/storage-fs" as string) as Promise<FileSystemModule>;

/**
 * Loads `@wf/storage-fs` and opens `./logs`. When the package is not
 * installed, rejects with STORAGE_MISCONFIGURED saying what to install.
 * `load` is a parameter only so the missing case can be tested.
 */
export async function loadDefaultStorage(
  load: () => Promise<FileSystemModule> = importDefaultAdapter,
): Promise<WorkflowStorage> {
  let loaded: FileSystemModule;
  try {
    loaded = await load();
  } catch (error) {
    if (!isMissingPackage(error, DEFAULT_ADAPTER)) throw error;
    throw new StorageMisconfiguredError(
      "WorkflowEngine.create",
      `without \`storage\`, the journal goes to ${DEFAULT_LOG_DIR} through the package ${DEFAULT_ADAPTER}, ` +
        `which is not installed: npm install ${DEFAULT_ADAPTER}, or pass a store such as ` +
        "`storage: new MemoryStorage()`",
      { cause: error },
    );
  }
  return new loaded.FileSystemStorage({ dir: DEFAULT_LOG_DIR });
}

/**
 * Whether `error` says that `packageName` itself cannot be found (not a
 * package it depends on, whose error is the adapter's own to report).
 * Node says so with a code; bundlers that leave the import to run time
 * (Vite's module runner) only in the message.
 */
function isMissingPackage(error: unknown, packageName: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof message !== "string") return false;
  const named = message.includes(`'${packageName}'`) || message.includes(`"${packageName}"`);
  if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") return named;
  return message.includes(packageName) && /Could not resolve|Cannot find/.test(message);
}
