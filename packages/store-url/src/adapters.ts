import type { WorkflowStorage } from "@wf/core";

/** What openStore needs of an adapter's store class. */
export interface StoreClass {
  fromUrl(url: string, options?: object): WorkflowStorage;
}

/** An adapter package and the URL schemes it opens. */
export interface Adapter {
  /** Without the `:`. */
  schemes: readonly string[];
  packageName: string;
  /** Loads the package. The specifiers are literal so bundlers and build tools can see them. */
  load(): Promise<StoreClass>;
}

/** Every store a URL can name, loaded only when a URL names it. */
export const ADAPTERS: readonly Adapter[] = [
  {
    schemes: ["file"],
    packageName: "@wf/storage-fs",
    load: async () => (await import("@wf/storage-fs")).FileSystemStorage,
  },
  {
    schemes: ["postgres", "postgresql"],
    packageName: "@wf/storage-postgres",
    load: async () => (await import("@wf/storage-postgres")).PostgresStorage,
  },
  {
    schemes: ["redis", "rediss"],
    packageName: "@wf/storage-redis",
    load: async () => (await import("@wf/storage-redis")).RedisStorage,
  },
  {
    schemes: ["s3"],
    packageName: "@wf/storage-s3",
    load: async () => (await import("@wf/storage-s3")).S3Storage,
  },
];
