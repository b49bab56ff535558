import { maskPassword } from "@wf/core/storage";
import type { Cluster, Redis } from "ioredis";
import type { RedisStorageLogger } from "./durability-check.js";

export interface RedisStorageOptions {
  /**
   * Server to connect to (`redis://`, `rediss://` for TLS, with user,
   * password and database as usual). The adapter opens its own client,
   * configured to fail within `timeoutMs`, and ends it on `close()`.
   * Default: `redis://127.0.0.1:6379` when no `client` is given.
   */
  url?: string;
  /**
   * A client you already have: an ioredis `Redis`, or `Cluster` for Redis
   * Cluster. Used as it is configured and never ended by the adapter;
   * each call is still bounded by `timeoutMs`. Give `url` or `client`, not both.
   */
  client?: Redis | Cluster;
  /**
   * Prepended to every key, so several stores (or apps) can share a server.
   * Any text without `{` or `}`. Default: `"wf:"`.
   */
  prefix?: string;
  /**
   * Expire a whole run (metadata and every step) this many seconds after its
   * last write. Default: never.
   */
  ttlSeconds?: number;
  /**
   * Longest a call may take before it fails with STORAGE_UNAVAILABLE, and the
   * connect and command timeouts of a client the adapter opens. Default: 5000.
   */
  timeoutMs?: number;
  /**
   * Told once per server when its configuration loses acknowledged steps
   * (AOF off, an evicting maxmemory-policy). Default: `console`.
   */
  logger?: RedisStorageLogger;
}

/** Every option, so a misspelt one is refused rather than ignored. */
export const OPTION_KEYS: readonly (keyof RedisStorageOptions)[] = [
  "url",
  "client",
  "prefix",
  "ttlSeconds",
  "timeoutMs",
  "logger",
];

const URL_FORM =
  "redis://[user:password@]host[:port][/db] (or rediss:// for TLS), db a non-negative integer";

export const DEFAULT_URL = "redis://127.0.0.1:6379";
export const DEFAULT_PREFIX = "wf:";
export const DEFAULT_TIMEOUT_MS = 5000;

/**
 * Refuses, when the store is built, a URL that is not a Redis URL (ioredis
 * would otherwise try it until every call timed out), a database that is not
 * a non-negative integer, and a `prefix` parameter, which ioredis would
 * ignore. The message masks the password.
 */
export function checkRedisUrl(url: unknown, prefixParameter: "allowed" | "refused"): URL {
  if (typeof url !== "string") {
    throw new TypeError(`RedisStorage: url must be a string (${URL_FORM}), got ${typeof url}.`);
  }
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  const masked = JSON.stringify(maskPassword(url));
  if ((parsed?.protocol !== "redis:" && parsed?.protocol !== "rediss:") || parsed.host === "") {
    throw new TypeError(`RedisStorage: ${masked} is not a Redis URL; expected ${URL_FORM}.`);
  }
  if (!/^(?:\/(?:0|[1-9][0-9]{0,8})?)?$/.test(parsed.pathname)) {
    throw new TypeError(
      `RedisStorage: ${masked} names database ${JSON.stringify(decodeURIComponent(parsed.pathname.slice(1)))}, which is not a non-negative integer; expected ${URL_FORM}.`,
    );
  }
  if (prefixParameter === "refused" && parsed.searchParams.has("prefix")) {
    throw new TypeError(
      `RedisStorage: ${masked} has a \`prefix\` parameter, which the \`url\` option does not read: use RedisStorage.fromUrl(url), or the \`prefix\` option.`,
    );
  }
  return parsed;
}

/**
 * The options `RedisStorage.fromUrl(url, options)` builds: the URL without
 * its `prefix` parameter as `url`, and that parameter as `prefix`.
 */
export function optionsFromUrl(
  url: string,
  options: Omit<RedisStorageOptions, "url" | "client">,
): RedisStorageOptions {
  const parsed = checkRedisUrl(url, "allowed");
  const prefix = parsed.searchParams.get("prefix");
  if (prefix === null) return { ...options, url };
  parsed.searchParams.delete("prefix");
  return { ...options, url: parsed.href, prefix };
}
