import type { WorkflowStorage } from "./storage.js";

/** Where the journal goes when `storage` is not given. */
export const DEFAULT_LOG_DIR = "./logs";

// Held in a variable so no bundler or compiler resolves it at build time:
// core must not depend on any adapter.
const DEFAULT_ADAPTER = "@wf/storage-fs";

interface FileSystemModule {
  FileSystemStorage: new (options: { dir: string }) => WorkflowStorage;
}

/** Loads `@wf/storage-fs` at run time and opens `./logs`, or says how to install it. */
export async function loadDefaultStorage(): Promise<WorkflowStorage> {
  let adapter: FileSystemModule;
  try {
    adapter = (await import(DEFAULT_ADAPTER)) as FileSystemModule;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
      throw new Error(
        `No \`storage\` was given, so the journal would go to ${DEFAULT_LOG_DIR} through ${DEFAULT_ADAPTER}, ` +
          `which is not installed. Run \`npm install ${DEFAULT_ADAPTER}\`, or pass a storage ` +
          "such as `storage: new MemoryStorage()` to WorkflowEngine.create.",
        { cause: error },
      );
    }
    throw error;
  }
  return new adapter.FileSystemStorage({ dir: DEFAULT_LOG_DIR });
}
