import { StorageUnavailableError, WorkflowError } from "@wf/core";

export const STORAGE_NAME = "PostgresStorage";

/** Socket errors meaning the server cannot be reached or went away. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * SQLSTATEs meaning "not now" rather than "never": shutdown, crash recovery,
 * too many connections, a cancelled (timed out) statement, a lock wait that
 * timed out, a read-only standby after a failover. Class 08 (connection
 * exception) is matched by prefix.
 */
const TRANSIENT_SQLSTATES = new Set([
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
  "53300", // too_many_connections
  "57014", // query_canceled (statement_timeout)
  "55P03", // lock_not_available (lock_timeout)
  "25006", // read_only_sql_transaction
]);

/** Messages pg gives for a connection it lost or could not make, which carry no code. */
const CONNECTION_MESSAGES = [
  "Connection terminated",
  "timeout exceeded when trying to connect",
  "Query read timeout",
  "not queryable",
  "Cannot use a pool after calling end",
  "timeout expired",
];

/** Thrown by `connectWithin` when no connection came in time. */
export class ConnectTimeoutError extends Error {
  constructor(ms: number) {
    super(`no connection within ${ms} ms`);
  }
}

/** Whether the connection an error came from should be discarded rather than reused. */
export function isConnectionLost(error: unknown): boolean {
  if (error instanceof ConnectTimeoutError) return true;
  if (typeof error !== "object" || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === "string" && (NETWORK_CODES.has(code) || code.startsWith("08"))) return true;
  // Shutdown and crash: the server ends the session after saying so.
  if (code === "57P01" || code === "57P02" || code === "57P03") return true;
  return typeof message === "string" && CONNECTION_MESSAGES.some((m) => message.includes(m));
}

/**
 * Every failure leaves the store as a WorkflowError with a stable code. The
 * store's own errors pass through; a lost or unreachable server, a timeout,
 * a server shutting down, and anything else the driver or server refused
 * become STORAGE_UNAVAILABLE with the driver's error as `cause` and the
 * SQLSTATE, when there is one, in the message.
 */
export function asStorageError(error: unknown): Error {
  if (error instanceof WorkflowError || error instanceof TypeError || error instanceof RangeError) {
    return error;
  }
  const { code, message } = (typeof error === "object" && error !== null ? error : {}) as {
    code?: unknown;
    message?: unknown;
  };
  const text = typeof message === "string" && message ? message : String(error);
  const sqlState =
    typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) && !NETWORK_CODES.has(code)
      ? code
      : undefined;
  // Node reports some socket failures as an AggregateError whose only detail is its code.
  const detail = sqlState
    ? `${text}, SQLSTATE ${sqlState}`
    : typeof code === "string" && !text.includes(code)
      ? `${text}, ${code}`
      : text;
  const reason =
    isConnectionLost(error) || (sqlState !== undefined && TRANSIENT_SQLSTATES.has(sqlState))
      ? `the server cannot be reached or cannot serve now (${detail})`
      : `PostgreSQL refused the operation (${detail})`;
  return new StorageUnavailableError(STORAGE_NAME, reason, { cause: error });
}
