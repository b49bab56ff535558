import { S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";
import { checkFromUrlOptions, checkOptions, maskPassword } from "@wf/core/storage";

export interface S3StorageOptions {
  /** Bucket holding the journal. It must exist. Required. */
  bucket: string;
  /**
   * Key prefix every object of this store lives under, so several stores (or
   * other data) can share a bucket. A `/` is added if missing. Default `"wf/"`.
   * Plain `/`-separated names: no leading `/`, no empty, `.` or `..` segment,
   * since servers that store keys as paths would resolve those into another
   * prefix (`a/../b/` is `b/`, `./` is the bucket's root). `""` puts the store
   * at the bucket's root.
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
   * store sets `maxAttempts` 3 and `requestHandler`
   * `{ connectionTimeout: 3000, requestTimeout: 30000, throwOnRequestTimeout: true }` (ms).
   */
  clientConfig?: S3ClientConfig;
  /**
   * Milliseconds one S3 request may take, the SDK's retries included, before
   * the call fails with STORAGE_UNAVAILABLE: an endpoint that accepts
   * connections and never answers costs this much, not the SDK's attempts
   * times its request timeout. Applies to a client you hand over too (through
   * each command's abort signal; the client is not changed). Default 30000.
   */
  timeout?: number;
  /** Requests one listing or deletion sends at once (reading the runs of a page, say). Default 16. */
  concurrency?: number;
}

/** Every option, so a misspelt one is refused rather than ignored. */
const OPTION_KEYS: readonly (keyof S3StorageOptions)[] = [
  "bucket",
  "prefix",
  "client",
  "clientConfig",
  "timeout",
  "concurrency",
];
/** What `s3://` URLs may carry as parameters, each a setting of the client the store creates. */
const URL_PARAMETERS = ["region", "endpoint", "forcePathStyle"] as const;
const URL_FORM = "s3://bucket/prefix?region=…&endpoint=…&forcePathStyle=true|false";

const DEFAULT_PREFIX = "wf/";
const DEFAULT_CONCURRENCY = 16;
const DEFAULT_TIMEOUT_MS = 30_000;
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
  /** Milliseconds per request, retries included. */
  timeout: number;
}

export function resolveOptions(options: S3StorageOptions): ResolvedOptions {
  checkOptions("S3Storage", options, OPTION_KEYS);
  if (options === undefined) {
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
  const prefix = checkPrefix(options.prefix ?? DEFAULT_PREFIX);
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  const timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeout) || timeout <= 0) {
    throw new RangeError(`timeout must be a positive number of milliseconds, got ${timeout}`);
  }
  if (client) return { bucket, prefix, client, ownsClient: false, concurrency, timeout };
  const config: S3ClientConfig = { ...DEFAULT_CLIENT_BOUNDS, ...clientConfig };
  return { bucket, prefix, client: new S3Client(config), ownsClient: true, concurrency, timeout };
}

/**
 * The prefix with its trailing `/`, or a TypeError naming what is wrong with
 * it. Keys are paths to servers that store objects as files (MinIO, s3rver)
 * and to proxies that normalise URLs: `tenantA/../tenantB/` would reach
 * tenant B's runs there, and `./` the runs of a store at the root.
 */
function checkPrefix(value: unknown): string {
  if (typeof value !== "string") {
    throw new TypeError(`prefix must be a string, got ${typeof value}`);
  }
  if (value === "") return value;
  const prefix = value.endsWith("/") ? value : `${value}/`;
  const segments = prefix.slice(0, -1).split("/");
  const bad = prefix.startsWith("/")
    ? 'starts with "/"'
    : segments.includes("..")
      ? 'has a ".." segment'
      : segments.includes(".")
        ? 'has a "." segment'
        : segments.includes("")
          ? 'has an empty segment ("//")'
          : null;
  if (bad) {
    throw new TypeError(
      `S3Storage prefix ${JSON.stringify(value)} ${bad}, which servers that treat keys as paths resolve into another prefix. Use names separated by single "/" with no leading "/" and no "." or ".." segment, such as "wf/" or "tenants/a/wf/" (or "" for the bucket's root).`,
    );
  }
  if (Buffer.byteLength(prefix) > MAX_PREFIX_BYTES) {
    throw new TypeError(
      `S3Storage prefix must be at most ${MAX_PREFIX_BYTES} bytes, leaving room in S3's 1,024-byte keys; got ${Buffer.byteLength(prefix)}`,
    );
  }
  return prefix;
}

/**
 * The options `S3Storage.fromUrl(url, options)` builds from
 * `s3://bucket/prefix?region=…&endpoint=…`: the host is the bucket, the path
 * (if any) the prefix, and the parameters settings of the client the store
 * creates. With `endpoint`, `forcePathStyle` defaults to true, as MinIO and
 * most S3-compatible servers need. Credentials never go in the URL: they
 * come from the SDK's default chain or `clientConfig.credentials`.
 */
export function optionsFromUrl(
  url: string,
  options: Omit<S3StorageOptions, "bucket">,
): S3StorageOptions {
  const masked = JSON.stringify(maskPassword(String(url)));
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed?.protocol !== "s3:" || parsed.hostname === "" || parsed.hash !== "") {
    throw new TypeError(`S3Storage: ${masked} is not an S3 URL; expected ${URL_FORM}.`);
  }
  if (parsed.username !== "" || parsed.password !== "" || parsed.port !== "") {
    throw new TypeError(
      `S3Storage: ${masked} has credentials or a port; an s3:// URL names a bucket: put the server in \`endpoint=\` and leave credentials to the SDK's default chain (environment, shared files, roles) or \`clientConfig.credentials\`.`,
    );
  }
  const unknown = [...parsed.searchParams.keys()].filter(
    (key) => !(URL_PARAMETERS as readonly string[]).includes(key),
  );
  if (unknown.length > 0) {
    throw new TypeError(
      `S3Storage: ${masked} has the unknown parameter${unknown.length > 1 ? "s" : ""} ${unknown.map((key) => JSON.stringify(key)).join(", ")}; it takes ${URL_PARAMETERS.join(", ")}.`,
    );
  }
  const fromUrl: S3ClientConfig = {};
  const region = parsed.searchParams.get("region");
  const endpoint = parsed.searchParams.get("endpoint");
  const pathStyle = parsed.searchParams.get("forcePathStyle");
  if (region !== null) fromUrl.region = region;
  if (endpoint !== null) fromUrl.endpoint = endpoint;
  if (pathStyle !== null) {
    if (pathStyle !== "true" && pathStyle !== "false") {
      throw new TypeError(
        `S3Storage: ${masked} has forcePathStyle=${pathStyle}; expected true or false.`,
      );
    }
    fromUrl.forcePathStyle = pathStyle === "true";
  } else if (endpoint !== null) {
    fromUrl.forcePathStyle = true;
  }
  const path = decodeURIComponent(parsed.pathname.replace(/^\//, ""));
  const urlSets = [
    "bucket",
    ...(path === "" ? [] : ["prefix"]),
    // The URL configures the client the store creates; a handed client has its own.
    ...(Object.keys(fromUrl).length > 0 ? ["client"] : []),
  ];
  checkFromUrlOptions("S3Storage", url, options, OPTION_KEYS, urlSets);
  const inBoth = Object.keys(fromUrl).filter(
    (key) =>
      parsed.searchParams.has(key) &&
      (options.clientConfig as Record<string, unknown> | undefined)?.[key] !== undefined,
  );
  if (inBoth.length > 0) {
    throw new TypeError(
      `S3Storage.fromUrl: ${masked} already sets ${inBoth.map((key) => `\`clientConfig.${key}\``).join(", ")}; give ${inBoth.length > 1 ? "them" : "it"} in the URL or in the options, not both.`,
    );
  }
  const clientConfig =
    options.client === undefined ? { ...fromUrl, ...options.clientConfig } : options.clientConfig;
  return {
    ...options,
    bucket: parsed.hostname,
    ...(path === "" ? {} : { prefix: path }),
    ...(clientConfig === undefined ? {} : { clientConfig }),
  };
}
