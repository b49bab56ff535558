import { StorageMisconfiguredError, StorageUnavailableError, WorkflowError } from "@wf/core";

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
 * too many connections or too little memory or disk, a cancelled (timed out)
 * statement, a lock wait that timed out, a serialization failure or
 * deadlock, a read-only standby after a failover. Class 08 (connection
 * exception) is matched by prefix. Every other SQLSTATE is a refusal that
 * retrying the same call cannot change.
 */
const TRANSIENT_SQLSTATES = new Set([
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
  "57P05", // idle_session_timeout
  "57014", // query_canceled (statement_timeout)
  "53000", // insufficient_resources
  "53100", // disk_full
  "53200", // out_of_memory
  "53300", // too_many_connections
  "55P03", // lock_not_available (lock_timeout)
  "55006", // object_in_use
  "40001", // serialization_failure
  "40P01", // deadlock_detected
  "25006", // read_only_sql_transaction
  "58000", // system_error
  "58030", // io_error
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

/**
 * Errors without a SQLSTATE that no retry cures: the password or TLS
 * settings the driver was given cannot work with this server.
 */
const SETUP_MESSAGES = ["SASL", "password must be a string", "does not support SSL", "certificate"];

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
 * What to check for a refusal that retrying cannot change, by SQLSTATE;
 * `schema` is the store's schema.
 */
function advice(sqlState: string | undefined, schema: string): string {
  switch (sqlState) {
    case "3D000":
      return "check the database name in the connection string, or create that database";
    case "28000":
    case "28P01":
      return "check the user and password in the connection settings, and that the server's pg_hba.conf lets that user in";
    case "42501":
      return (
        `check the role's privileges: GRANT USAGE ON SCHEMA "${schema}" and SELECT, INSERT, UPDATE, DELETE ` +
        `on its tables to the role, or let a role with CREATE on the database run storage.migrate() first`
      );
    case "42P01":
    case "3F000":
      return (
        `check that schema "${schema}" and its tables runs, steps and wf_schema_version exist: they were ` +
        "dropped after the store set them up; restore them, or drop the schema whole so that the next store " +
        "opened on it creates it afresh (empty)"
      );
    case "42P07":
      return `schema "${schema}" already holds a table of that name that is not the store's: give the store a schema of its own`;
    case "57P04":
      return "the database was dropped: check the database name in the connection string";
    case undefined:
      return "check the connection settings (password, TLS)";
    default:
      return `check the server's configuration, the role's privileges and schema "${schema}"`;
  }
}

/**
 * Every failure leaves the store as a WorkflowError with a stable code. The
 * store's own errors pass through. A lost or unreachable server, a timeout, a
 * server shutting down or overloaded become STORAGE_UNAVAILABLE (retry
 * later); anything else the server refused (a missing database, role, table
 * or privilege, a statement it cannot run) and driver settings that cannot
 * work become STORAGE_MISCONFIGURED, saying what to check. Either way the
 * driver's error is the `cause` and its SQLSTATE is in the message.
 */
export function asStorageError(error: unknown, schema: string): Error {
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
  if (isConnectionLost(error) || (sqlState !== undefined && TRANSIENT_SQLSTATES.has(sqlState))) {
    return new StorageUnavailableError(
      STORAGE_NAME,
      `the server cannot be reached or cannot serve now (${detail})`,
      { cause: error },
    );
  }
  if (sqlState !== undefined || SETUP_MESSAGES.some((m) => text.includes(m))) {
    return new StorageMisconfiguredError(
      STORAGE_NAME,
      `PostgreSQL refused the operation (${detail}); retrying will not help: ${advice(sqlState, schema)}`,
      { cause: error },
    );
  }
  // A failure the driver did not explain: treat it as passing, as most of them are.
  return new StorageUnavailableError(STORAGE_NAME, `the driver failed (${detail})`, {
    cause: error,
  });
}
