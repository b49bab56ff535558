import { CorruptRecordError, ERROR_CODES, StorageUnavailableError } from "@wf/core";
import { type Cluster, Redis } from "ioredis";

export type RedisClient = Redis | Cluster;

/** Names the adapter in every error it raises. */
export const STORAGE_NAME = "RedisStorage";

/**
 * ioredis by default queues commands while disconnected and retries them up
 * to 20 times, so a down server makes calls hang for a long time. A client
 * the adapter opens itself fails each command after at most `timeoutMs` and
 * two failed connection attempts, while it keeps reconnecting in the
 * background so a server that comes back is used again. Commands written
 * before a connection dropped are not resent: their outcome is unknown, and
 * resending a conditional append could report a conflict for a step that
 * was in fact stored.
 */
export function openClient(url: string, timeoutMs: number): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    autoResendUnfulfilledCommands: false,
    retryStrategy: (attempt) => Math.min(attempt * 100, 500),
    // How long disconnect() waits for a socket to close before destroying
    // it; ioredis also waits on a socket that has already failed, which
    // would hold the process open for the default 2 s after close().
    disconnectTimeout: 200,
  });
  // Failures reach callers through their commands; without a listener
  // ioredis would print every reconnection error.
  client.on("error", () => {});
  return client;
}

/** Ends a client the adapter opened: QUIT when connected (bounded), then drop the socket and stop reconnecting. */
export async function closeClient(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === "ready") {
    await withDeadline(() => client.quit(), timeoutMs).catch(() => {});
  }
  client.disconnect();
  // Between reconnection attempts there is no socket to close, so ioredis
  // would leave queued commands, and their timeout timers, holding the
  // process open for up to timeoutMs. Fail them now.
  (client as unknown as { flushQueue?: (error: Error) => void }).flushQueue?.(
    new Error("Connection is closed."),
  );
}

/**
 * What `work` resolves to, or StorageUnavailableError if it has not settled
 * within `timeoutMs`. `work` gets a signal aborted at the deadline, to stop
 * before sending further commands for a caller who has already been answered.
 */
export async function withDeadline<T>(
  work: (expired: AbortSignal) => Promise<T>,
  timeoutMs: number,
): Promise<T> {
  const expiry = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      expiry.abort();
      reject(
        new StorageUnavailableError(
          STORAGE_NAME,
          `no answer from Redis within ${timeoutMs} ms (a write may still be applied later: reopen the run to see its head)`,
        ),
      );
    }, timeoutMs);
  });
  try {
    return await Promise.race([work(expiry.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What a caller sees of a failure: the adapter's own errors and programmer
 * mistakes as they are; a key of the wrong type (something else wrote under
 * our prefix) as CORRUPT_RECORD; anything else from the client or server
 * (refused connection, timeout, LOADING, READONLY after a failover,
 * CLUSTERDOWN, OOM) as STORAGE_UNAVAILABLE.
 */
export function toStorageError(error: unknown, location: string): Error {
  if (error instanceof TypeError || error instanceof RangeError || isWorkflowError(error)) {
    return error;
  }
  const message = error instanceof Error ? error.message : String(error);
  // Inside a script, Redis 6 wraps the error ("ERR Error running script ... WRONGTYPE ...").
  if (message.includes("WRONGTYPE")) {
    return new CorruptRecordError(location, "a key there holds another type of value", {
      cause: error,
    });
  }
  return new StorageUnavailableError(STORAGE_NAME, message, { cause: error });
}

/** By code rather than class, so errors from another copy of @wf/core count too. */
function isWorkflowError(error: unknown): error is Error {
  const code = (error as { code?: unknown } | null)?.code;
  return (ERROR_CODES as readonly unknown[]).includes(code);
}
