import type { WorkflowStorage } from "./storage.js";

/** Where the journal goes when `storage` is not given. */
export const DEFAULT_LOG_DIR = "./logs";

// Held in a variable so no bundler or compiler resolves it at build time:
// core must not depend on any adapter.
const DEFAULT_ADAPTER = "@wf/storage-fs";

interface FileSystemModule {
  FileSystemStorage: new (options: { dir: string }) => WorkflowStorage;
}

/**
 * Loads `@wf/storage-fs` at run time and opens `./logs`, or says how to
 * install it. `adapter` is a parameter only so the missing case can be tested.
 */
export async function loadDefaultStorage(adapter = DEFAULT_ADAPTER): Promise<WorkflowStorage> {
  let loaded: FileSystemModule;
  try {
    loaded = (await import(adapter)) as FileSystemModule;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const message = String((error as { message?: unknown }).message);
    // Node says so with a code; bundlers such as Vite only in the message.
    const missing =
      code === "ERR_MODULE_NOT_FOUND" ||
      code === "MODULE_NOT_FOUND" ||
      (message.includes(adapter) && /Could not resolve|Cannot find/.test(message));
    if (missing) {
      throw new Error(
        `No \`storage\` was given, so the journal would go to ${DEFAULT_LOG_DIR} through ${adapter}, ` +
          `which is not installed. Run \`npm install ${adapter}\`, or pass a storage ` +
          "such as `storage: new MemoryStorage()` to WorkflowEngine.create.",
        { cause: error },
      );
    }
    throw error;
  }
  return new loaded.FileSystemStorage({ dir: DEFAULT_LOG_DIR });
}
