import {
  CorruptRecordError,
  ERROR_CODES,
  StorageMisconfiguredError,
  StorageUnavailableError,
} from "@wf/core";
import { type Cluster, Redis } from "ioredis";

export type RedisClient = Redis | Cluster;

/** Names the adapter in every error it raises. */
export const STORAGE_NAME = "RedisStorage";

/**
 * ioredis by default queues commands while disconnected and retries them up
 * to 20 times, so a down server makes calls hang for a long time. A client
 * the adapter opens itself has no offline queue: calls wait for a ready
 * connection before sending (see ConnectionGate), so a command is either
 * written to a live connection or refused on the spot, never held to be
 * sent later. Each command fails after at most `timeoutMs`, and the client
 * keeps reconnecting in the background so a server that comes back is used
 * again. Commands written before a connection dropped are not resent: their
 * outcome is unknown, and resending a conditional append could report a
 * conflict for a step that was in fact stored.
 */
export function openClient(url: string, timeoutMs: number): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    retryStrategy: (attempt) => Math.min(attempt * 100, 500),
    // How long disconnect() waits for a socket to close before destroying
    // it; ioredis also waits on a socket that has already failed, which
    // would hold the process open for the default 2 s after close().
    disconnectTimeout: 200,
  });
  // Failures reach callers through their calls; without a listener ioredis
  // would print every reconnection error.
  client.on("error", () => {});
  // An idle store must not keep the process alive (as pg's allowExitOnIdle):
  // the socket and the timer before a reconnection do not hold the event
  // loop. A call in progress does, through its own deadline timer.
  client.on("connect", () => client.stream?.unref?.());
  client.on("reconnecting", () => {
    (client as unknown as { reconnectTimeout?: NodeJS.Timeout | null }).reconnectTimeout?.unref();
  });
  return client;
}

/** Ends a client the adapter opened: QUIT when connected (bounded), then drop the socket and stop reconnecting. */
export async function closeClient(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === "ready") {
    await withDeadline(
      () => client.quit(),
      timeoutMs,
      () => new Error("QUIT timed out"),
    ).catch(() => {});
  }
  client.disconnect();
  // Between reconnection attempts there is no socket to close, so ioredis
  // would leave commands, and their timeout timers, holding the process
  // open for up to timeoutMs. Fail them now.
  (client as unknown as { flushQueue?: (error: Error) => void }).flushQueue?.(
    new Error("Connection is closed."),
  );
}

/**
 * When a call's time is up. What waits on it (the connection, the
 * durability check, an append queued for its group) asks for it; the
 * AbortSignal is made only when something asks for one, because a call on
 * a ready client needs none and an AbortController per call is a visible
 * share of a small append's CPU.
 */
export class Deadline {
  #expired = false;
  #controller: AbortController | null = null;
  #callbacks: (() => void)[] = [];

  /** The deadline has passed: the caller has been answered. */
  get expired(): boolean {
    return this.#expired;
  }

  /** A signal aborted at the deadline. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#expired) this.#controller.abort();
    }
    return this.#controller.signal;
  }

  /** Calls `callback` once, when the deadline passes (at once if it has). */
  whenExpired(callback: () => void): void {
    if (this.#expired) callback();
    else this.#callbacks.push(callback);
  }

  /** Stops `work` that goes on after the caller was answered. */
  throwIfExpired(): void {
    if (this.#expired) throw new Error("the call's deadline has passed");
  }

  expire(): void {
    if (this.#expired) return;
    this.#expired = true;
    this.#controller?.abort();
    const callbacks = this.#callbacks;
    this.#callbacks = [];
    for (const callback of callbacks) callback();
  }
}

/**
 * What `work` resolves to, or `expiry()`'s error if it has not settled within
 * `timeoutMs`. `work` gets the deadline, to stop before sending further
 * commands for a caller who has already been answered.
 */
export async function withDeadline<T>(
  work: (deadline: Deadline) => Promise<T>,
  timeoutMs: number,
  expiry: () => Error,
): Promise<T> {
  const state = new Deadline();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(expiry());
      state.expire();
    }, timeoutMs);
  });
  try {
    return await Promise.race([work(state), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Server and connection errors that retrying does not cure, each with what
 * to change. Matched anywhere in the message: Redis error replies start with
 * their code, but ioredis wraps some ("Ready check failed: NOAUTH …").
 */
const PERMANENT_PROBLEMS: readonly [RegExp, string][] = [
  [
    /WRONGPASS|invalid password|invalid username-password/,
    "the server refused the user name or password: check the credentials in the URL or client options",
  ],
  [
    /NOAUTH/,
    "the server requires authentication: put the password (and user) in the URL, redis://user:password@host",
  ],
  [
    /NOPERM/,
    "the server's ACL refuses this user a command or key the store needs: allow it EVALSHA, EVAL, HMGET, HGET, ZADD, ZREM, ZRANGEBYLEX, ZREVRANGEBYLEX (or +@read +@write +@scripting) on the prefix's keys",
  ],
  [
    /DB index is out of range/,
    "the database number in the URL does not exist on the server (see its `databases` setting)",
  ],
  [
    /unknown command|scripting is disabled/i,
    "the server lacks a command the store needs, such as EVALSHA (Lua scripting): use Redis 6+ or Valkey with scripting enabled",
  ],
  [
    /^(?:MOVED|ASK) /,
    "the server is a Redis Cluster node: pass an ioredis Cluster as `client` instead of a URL",
  ],
  [
    /certificate/,
    "the server's TLS certificate was not accepted: check the host name and the CA (`tls` options of the client)",
  ],
];

/** What to change when `error` is a permanent refusal, or null when it may pass by itself. */
export function permanentProblem(error: unknown): string | null {
  const message = String((error as Error | null)?.message ?? error);
  return PERMANENT_PROBLEMS.find(([pattern]) => pattern.test(message))?.[1] ?? null;
}

/** STORAGE_MISCONFIGURED for a permanent refusal, saying what to change; null for any other error. */
function misconfigured(error: unknown, server: string): Error | null {
  const advice = permanentProblem(error);
  if (!advice) return null;
  const message = (error as Error | null)?.message ?? String(error);
  return new StorageMisconfiguredError(STORAGE_NAME, `${server} refused: ${message} (${advice})`, {
    cause: error,
  });
}

/** A connection attempt that failed before the call sent anything. */
export function connectionError(error: unknown, server: string): Error {
  const message = (error as Error | null)?.message ?? String(error);
  return (
    misconfigured(error, server) ??
    new StorageUnavailableError(
      STORAGE_NAME,
      `cannot connect to ${server}: ${message} (nothing was sent; retry once the server is reachable)`,
      { cause: error },
    )
  );
}

/** What a call knows about its own commands when it fails. */
export interface CallProgress {
  /** The call changes data (createRun, appendStep, deleteRun). */
  writes: boolean;
  /** A command of the call itself has been handed to the client (past the connection check). */
  sent: boolean;
  /** The call is an append waiting for the appends before it (group commit) before it is sent. */
  queued?: boolean;
}

/** What a call hands to its work: its deadline and what it has sent. */
export interface CallState {
  deadline: Deadline;
  progress: CallProgress;
}

/** The error of a call that ran out of time: what it means depends on whether anything was sent. */
export function deadlineError(server: string, timeoutMs: number, call: CallProgress): Error {
  if (!call.sent && call.queued) {
    return new StorageUnavailableError(
      STORAGE_NAME,
      `the append waited ${timeoutMs} ms for the appends before it to be answered by ${server}, and was not sent (retry it; if this persists, raise timeoutMs or check the server's load)`,
    );
  }
  if (!call.sent) {
    return new StorageUnavailableError(
      STORAGE_NAME,
      `no connection to ${server} within ${timeoutMs} ms (nothing was sent)`,
    );
  }
  return new StorageUnavailableError(
    STORAGE_NAME,
    `no answer from ${server} within ${timeoutMs} ms${
      call.writes ? " (the write may still be applied later: reopen the run to see its head)" : ""
    }`,
  );
}

/**
 * What a caller sees of a failure: the adapter's own errors and programmer
 * mistakes as they are; a permanent refusal (credentials, ACL, database
 * number) as STORAGE_MISCONFIGURED; a command refused before it was written
 * as STORAGE_UNAVAILABLE saying nothing was sent; an error the server
 * answered (LOADING, READONLY after a failover, CLUSTERDOWN, OOM) as
 * STORAGE_UNAVAILABLE; and a lost reply (timeout, dropped connection) as
 * STORAGE_UNAVAILABLE that warns a write may still be applied.
 */
export function toStorageError(error: unknown, server: string, call: CallProgress): Error {
  if (error instanceof TypeError || error instanceof RangeError || isWorkflowError(error)) {
    return error;
  }
  const refusal = misconfigured(error, server);
  if (refusal) return refusal;
  const message = error instanceof Error ? error.message : String(error);
  const name = (error as Error | null)?.name;
  const sentNothing = message.startsWith("Stream isn't writeable");
  const reason = sentNothing
    ? `the connection to ${server} dropped before the command was sent (it was not applied)`
    : name === "ReplyError"
      ? `${server} answered: ${message}`
      : `${server}: ${message}${
          call.writes
            ? " (the write may still be applied later: reopen the run to see its head)"
            : ""
        }`;
  return new StorageUnavailableError(STORAGE_NAME, reason, { cause: error });
}

/**
 * A command on one key, with a key of another type there (something else
 * wrote under the prefix) reported as CORRUPT_RECORD naming that key.
 */
export async function onKey<T>(key: string, type: string, command: Promise<T>): Promise<T> {
  try {
    return await command;
  } catch (error) {
    if (!String((error as Error)?.message).startsWith("WRONGTYPE")) throw error;
    throw new CorruptRecordError(key, `it holds another type of value than a ${type}`, {
      cause: error,
    });
  }
}

/** By code rather than class, so errors from another copy of @wf/core count too. */
function isWorkflowError(error: unknown): error is Error {
  const code = (error as { code?: unknown } | null)?.code;
  return (ERROR_CODES as readonly unknown[]).includes(code);
}
