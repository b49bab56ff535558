import { maskPassword } from "@wf/core/storage";
import type { Pool, PoolConfig } from "pg";

export interface PostgresStorageOptions {
  /**
   * `postgres://user:password@host:port/database?sslmode=…`. The store opens
   * (and on `close()` ends) a pool of its own. Give this or `pool`.
   */
  connectionString?: string;
  /**
   * A `pg.Pool` you already have. The store borrows clients from it and never
   * ends it: `close()` leaves it open. Give it an `error` listener, as pg
   * requires of every pool, so a restarting server cannot crash the process.
   * The pool's own settings apply; `maxConnections` and the server-side
   * statement timeout are not applied to it.
   */
  pool?: Pool;
  /**
   * Further `pg.Pool` settings (ssl, host, user, password…) for the pool the
   * store opens; its size and timeouts come from the options below. Ignored
   * with `pool`.
   */
  poolConfig?: PoolConfig;
  /**
   * PostgreSQL schema holding the store's tables, created if absent. A plain
   * identifier: letters, digits and `_`, not starting with a digit or `pg_`,
   * at most 63 characters. Default `"wf"`.
   */
  schema?: string;
  /** Most connections the store's own pool opens. Default 10. */
  maxConnections?: number;
  /**
   * How long getting a connection may take, including waiting for a free one
   * in the pool, before the operation fails with STORAGE_UNAVAILABLE.
   * Default 5000 ms.
   */
  connectionTimeoutMillis?: number;
  /**
   * How long one statement may run before it fails with STORAGE_UNAVAILABLE:
   * the server cancels it (`statement_timeout`, on the store's own pool) and
   * the client stops waiting one second later, for a server that no longer
   * answers at all. Default 30000 ms.
   */
  queryTimeoutMillis?: number;
  /** How long an idle connection of the store's own pool stays open. Default 10000 ms. */
  idleTimeoutMillis?: number;
  /**
   * Bring the schema up to date on first use (serialised with an advisory
   * lock, safe with many processes starting at once). With `false`, run
   * `storage.migrate()` yourself; until then every call fails with
   * STORAGE_MISCONFIGURED naming the missing version. Default true.
   */
  autoMigrate?: boolean;
  /**
   * Send the appends and other writes as named prepared statements, parsed
   * and planned once per connection. Turn off behind a pooler that cannot
   * keep them across transactions (PgBouncer in transaction mode before
   * 1.21, some proxies); every statement is then planned on each call.
   * Default true.
   */
  preparedStatements?: boolean;
}

/** Every option, so a misspelt one is refused rather than ignored. */
export const OPTION_KEYS: readonly (keyof PostgresStorageOptions)[] = [
  "connectionString",
  "pool",
  "poolConfig",
  "schema",
  "maxConnections",
  "connectionTimeoutMillis",
  "queryTimeoutMillis",
  "idleTimeoutMillis",
  "autoMigrate",
  "preparedStatements",
];

const URL_FORM = "postgres://user:password@host:5432/database (or postgresql://)";

export const DEFAULT_SCHEMA = "wf";
export const DEFAULT_MAX_CONNECTIONS = 10;
export const DEFAULT_CONNECTION_TIMEOUT_MS = 5000;
export const DEFAULT_QUERY_TIMEOUT_MS = 30_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 10_000;
/** Lets the server's own cancellation (a clear SQLSTATE) arrive before the client gives up. */
export const CLIENT_TIMEOUT_GRACE_MS = 1000;

/** Options with every default filled in; `pool`/`connectionString` are left to the store. */
export interface Settings {
  schema: string;
  maxConnections: number;
  connectionTimeoutMillis: number;
  queryTimeoutMillis: number;
  idleTimeoutMillis: number;
  autoMigrate: boolean;
  preparedStatements: boolean;
}

export function resolveSettings(options: PostgresStorageOptions): Settings {
  return {
    schema: options.schema ?? DEFAULT_SCHEMA,
    maxConnections: positiveInteger(
      "maxConnections",
      options.maxConnections,
      DEFAULT_MAX_CONNECTIONS,
    ),
    connectionTimeoutMillis: positiveInteger(
      "connectionTimeoutMillis",
      options.connectionTimeoutMillis,
      DEFAULT_CONNECTION_TIMEOUT_MS,
    ),
    queryTimeoutMillis: positiveInteger(
      "queryTimeoutMillis",
      options.queryTimeoutMillis,
      DEFAULT_QUERY_TIMEOUT_MS,
    ),
    idleTimeoutMillis: positiveInteger(
      "idleTimeoutMillis",
      options.idleTimeoutMillis,
      DEFAULT_IDLE_TIMEOUT_MS,
    ),
    autoMigrate: options.autoMigrate ?? true,
    preparedStatements: flag("preparedStatements", options.preparedStatements, true),
  };
}

function flag(name: string, value: boolean | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") {
    throw new TypeError(`${name} must be true or false, got ${JSON.stringify(value)}`);
  }
  return value;
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}

/**
 * Refuses, when the store is built, a connection string that is not a
 * PostgreSQL URL (pg would otherwise try it and fail later, or not at all
 * the way the user meant). The message masks the password.
 */
export function checkConnectionString(url: unknown): URL {
  if (typeof url !== "string") {
    throw new TypeError(
      `PostgresStorage: connectionString must be a string (${URL_FORM}), got ${typeof url}.`,
    );
  }
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed?.protocol !== "postgres:" && parsed?.protocol !== "postgresql:") {
    throw new TypeError(
      `PostgresStorage: ${JSON.stringify(maskPassword(url))} is not a PostgreSQL URL; expected ${URL_FORM}.`,
    );
  }
  return parsed;
}

/**
 * The options `PostgresStorage.fromUrl(url, options)` builds: the URL is the
 * connection string, and its `schema` parameter (which pg does not know) the
 * `schema` option.
 */
export function optionsFromUrl(
  url: string,
  options: Omit<PostgresStorageOptions, "connectionString" | "pool">,
): PostgresStorageOptions {
  const parsed = checkConnectionString(url);
  const schema = parsed.searchParams.get("schema");
  parsed.searchParams.delete("schema");
  return {
    ...options,
    connectionString: schema === null ? url : parsed.href,
    ...(schema === null ? {} : { schema }),
  };
}
