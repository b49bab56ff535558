import { S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";

export interface S3StorageOptions {
  /** Bucket holding the journal. It must exist. Required. */
  bucket: string;
  /**
   * Key prefix every object of this store lives under, so several stores (or
   * other data) can share a bucket. A `/` is added if missing. Default `"wf/"`.
   */
  prefix?: string;
  /**
   * An S3Client you already have. The store uses it as it is (its retries,
   * timeouts and credentials) and never destroys it: `close()` leaves it to you.
   * Give either this or `clientConfig`.
   */
  client?: S3Client;
  /**
   * Configuration of a client the store creates, and destroys on `close()`:
   * `endpoint`, `region`, `forcePathStyle` (MinIO and most S3-compatible
   * servers need `true`), `credentials` (default: the SDK's default chain:
   * environment, shared files, SSO, instance roles). Unless you set them, the
   * store bounds every request: `maxAttempts` 3 and `requestHandler`
   * `{ connectionTimeout: 3000, requestTimeout: 30000, throwOnRequestTimeout: true }` (ms),
   * so an unreachable endpoint fails with STORAGE_UNAVAILABLE in seconds.
   */
  clientConfig?: S3ClientConfig;
  /** Requests one listing or deletion sends at once (reading the runs of a page, say). Default 16. */
  concurrency?: number;
}

const DEFAULT_PREFIX = "wf/";
const DEFAULT_CONCURRENCY = 16;
/** Bounds of a client the store creates: a few seconds to fail over a dead endpoint, never a hang. */
const DEFAULT_CLIENT_BOUNDS = {
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 3_000, requestTimeout: 30_000, throwOnRequestTimeout: true },
} satisfies S3ClientConfig;
const MAX_PREFIX_BYTES = 256;

export interface ResolvedOptions {
  bucket: string;
  prefix: string;
  client: S3Client;
  /** Whether the store created the client, and so must destroy it. */
  ownsClient: boolean;
  concurrency: number;
}

export function resolveOptions(options: S3StorageOptions): ResolvedOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("S3Storage needs options: { bucket, prefix?, client? | clientConfig? }");
  }
  const { bucket, client, clientConfig } = options;
  if (typeof bucket !== "string" || bucket.length === 0) {
    throw new TypeError("S3Storage needs `bucket`, the name of an existing bucket.");
  }
  if (client && clientConfig) {
    throw new TypeError(
      "Give S3Storage either `client` (an S3Client you own) or `clientConfig` (for one it creates), not both.",
    );
  }
  let prefix = options.prefix ?? DEFAULT_PREFIX;
  if (typeof prefix !== "string" || prefix.startsWith("/") || prefix.includes("//")) {
    throw new TypeError(
      `prefix must be a string without a leading "/" or "//", got ${JSON.stringify(prefix)}`,
    );
  }
  if (prefix !== "" && !prefix.endsWith("/")) prefix += "/";
  if (Buffer.byteLength(prefix) > MAX_PREFIX_BYTES) {
    throw new TypeError(
      `prefix must be at most ${MAX_PREFIX_BYTES} bytes, leaving room in S3's 1,024-byte keys`,
    );
  }
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  if (client) return { bucket, prefix, client, ownsClient: false, concurrency };
  const config: S3ClientConfig = { ...DEFAULT_CLIENT_BOUNDS, ...clientConfig };
  return { bucket, prefix, client: new S3Client(config), ownsClient: true, concurrency };
}
