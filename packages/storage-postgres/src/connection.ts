import pg from "pg";
import { ConnectTimeoutError, isConnectionLost } from "./driver-errors.js";
import { CLIENT_TIMEOUT_GRACE_MS, type PostgresStorageOptions, type Settings } from "./options.js";
import type { Statement } from "./statements.js";

const APPLICATION_NAME = "wf-storage-postgres";

/** What a statement run through `Connection` can send: text and parameters only. */
export type Values = readonly unknown[];

/** SQL text (sent unnamed, planned on every call), or a named prepared statement. */
export type Sql = string | Statement;

export interface QueryRunner {
  query<Row extends pg.QueryResultRow>(sql: Sql, values?: Values): Promise<Row[]>;
}

/**
 * The pool the store talks through, with every wait bounded: getting a
 * connection by `connectionTimeoutMillis`, a statement by
 * `queryTimeoutMillis` (server side on the store's own pool, client side
 * always). A connection that failed is discarded, never reused, so a
 * restarted server is reached with fresh connections. Errors are the
 * driver's own; the store turns them into WorkflowErrors.
 */
export class Connection {
  readonly #pool: pg.Pool;
  readonly #owned: boolean;
  readonly #settings: Settings;
  #ended: Promise<void> | undefined;

  constructor(options: PostgresStorageOptions, settings: Settings) {
    this.#settings = settings;
    if (options.pool) {
      if (options.connectionString !== undefined) {
        throw new TypeError("Give PostgresStorage either `pool` or `connectionString`, not both.");
      }
      this.#pool = options.pool;
      this.#owned = false;
      return;
    }
    if (options.connectionString === undefined && options.poolConfig === undefined) {
      throw new TypeError(
        "PostgresStorage needs `connectionString` (postgres://…) or an existing `pool`.",
      );
    }
    this.#pool = new pg.Pool({
      application_name: APPLICATION_NAME,
      ...options.poolConfig,
      ...(options.connectionString === undefined
        ? {}
        : { connectionString: options.connectionString }),
      max: settings.maxConnections,
      connectionTimeoutMillis: settings.connectionTimeoutMillis,
      idleTimeoutMillis: settings.idleTimeoutMillis,
      statement_timeout: settings.queryTimeoutMillis,
      // Notices a peer that vanished without closing the socket.
      keepAlive: true,
      // Idle connections must not keep the process alive after the caller is done.
      allowExitOnIdle: true,
    });
    // An idle connection the server closes (restart, failover) surfaces here;
    // the pool has already discarded it, and without a listener pg would
    // crash the process.
    this.#pool.on("error", () => {});
    this.#owned = true;
  }

  /** Most connections the pool opens: the store's own setting, or a handed pool's `max` (pg's default 10). */
  get size(): number {
    return this.#owned ? this.#settings.maxConnections : (this.#pool.options.max ?? 10);
  }

  /** Runs one statement on a pooled connection. */
  async query<Row extends pg.QueryResultRow>(sql: Sql, values: Values = []): Promise<Row[]> {
    return this.withClient((client) => client.query<Row>(sql, values));
  }

  /** Runs `work` on one connection (for transactions), returning it to the pool after. */
  async withClient<T>(work: (client: QueryRunner) => Promise<T>): Promise<T> {
    const client = await this.#connect();
    // A socket that dies while we hold the client is reported both to the
    // query in flight and as an 'error' event; pg leaves that event to
    // whoever checked the client out, and unheard it would crash the process.
    let lost: Error | undefined;
    const onError = (error: Error) => {
      lost = error;
    };
    client.on("error", onError);
    const runner: QueryRunner = {
      query: async <Row extends pg.QueryResultRow>(sql: Sql, values: Values = []) => {
        // pg honours a per-query query_timeout its types do not declare.
        const query: pg.QueryConfig & { query_timeout: number } = {
          ...(typeof sql === "string" || !this.#settings.preparedStatements
            ? { text: typeof sql === "string" ? sql : sql.text }
            : sql),
          values: values as unknown[],
          query_timeout: this.#settings.queryTimeoutMillis + CLIENT_TIMEOUT_GRACE_MS,
        };
        const result = await client.query<Row>(query);
        return result.rows;
      },
    };
    let failure: unknown;
    try {
      return await work(runner);
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      client.off("error", onError);
      // Destroy rather than reuse a connection that failed mid-conversation.
      client.release(lost ?? (isConnectionLost(failure) ? (failure as Error) : undefined));
    }
  }

  /** Ends the pool if the store opened it; a pool the caller handed over is left alone. */
  end(): Promise<void> {
    if (!this.#owned) return Promise.resolve();
    this.#ended ??= this.#pool.end().catch(() => {});
    return this.#ended;
  }

  /**
   * pool.connect() bounded by connectionTimeoutMillis even for a pool handed
   * to us without a timeout of its own; a connection that arrives after we
   * gave up goes straight back to the pool.
   */
  async #connect(): Promise<pg.PoolClient> {
    const ms = this.#settings.connectionTimeoutMillis;
    const connecting = this.#pool.connect();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ConnectTimeoutError(ms)), ms);
    });
    try {
      return await Promise.race([connecting, deadline]);
    } catch (error) {
      if (error instanceof ConnectTimeoutError) {
        connecting.then(
          (late) => late.release(),
          () => {},
        );
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}
