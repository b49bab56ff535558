import type { WorkflowStorage } from "@wf/core";
import type { S3TestConfig } from "@wf/test-services/s3";

/** The stores the torture runs against, in the order the tables are printed. */
export const STORE_KINDS = ["fs", "postgres", "redis", "s3"] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

/** Row titles of the tables. */
export const STORE_NAMES: Record<StoreKind, string> = {
  fs: "fs (FileSystemStorage)",
  postgres: "PostgreSQL (PostgresStorage)",
  redis: "Redis (RedisStorage)",
  s3: "S3 test server (S3Storage)",
};

/**
 * Everything needed to open a store on the torture's data, as plain JSON, so
 * the parent can hand it to the child processes it crashes and races.
 */
export type StoreSpec =
  | { kind: "fs"; dir: string }
  | { kind: "postgres"; url: string; schema: string; maxConnections?: number }
  | { kind: "redis"; url: string; prefix: string }
  | { kind: "s3"; config: S3TestConfig; prefix: string };

/** Stands in for a logger: the torture's servers are set up knowingly, their warnings are noise. */
const quiet = { warn() {} };

/**
 * Opens a store with its package's defaults (timeouts, retries) except where
 * named here. Each package is imported only when asked for, so a child
 * process loads one driver, not four.
 */
export async function openStore(spec: StoreSpec): Promise<WorkflowStorage> {
  switch (spec.kind) {
    case "fs": {
      const { FileSystemStorage } = await import("@wf/storage-fs");
      return new FileSystemStorage({ dir: spec.dir });
    }
    case "postgres": {
      const { PostgresStorage } = await import("@wf/storage-postgres");
      return new PostgresStorage({
        connectionString: spec.url,
        schema: spec.schema,
        maxConnections: spec.maxConnections ?? 4,
      });
    }
    case "redis": {
      const { RedisStorage } = await import("@wf/storage-redis");
      return new RedisStorage({ url: spec.url, prefix: spec.prefix, logger: quiet });
    }
    case "s3": {
      const { S3Storage } = await import("@wf/storage-s3");
      const { config } = spec;
      return new S3Storage({
        bucket: config.bucket,
        prefix: spec.prefix,
        clientConfig: {
          endpoint: config.endpoint,
          region: config.region,
          forcePathStyle: config.forcePathStyle,
          ...(config.accessKeyId && config.secretAccessKey
            ? {
                credentials: {
                  accessKeyId: config.accessKeyId,
                  secretAccessKey: config.secretAccessKey,
                },
              }
            : {}),
        },
      });
    }
  }
}
