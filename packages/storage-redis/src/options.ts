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

export const DEFAULT_URL = "redis://127.0.0.1:6379";
export const DEFAULT_PREFIX = "wf:";
export const DEFAULT_TIMEOUT_MS = 5000;
