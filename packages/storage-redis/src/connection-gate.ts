import { StorageUnavailableError } from "@wf/core";
import { connectionError, permanentProblem, type RedisClient, STORAGE_NAME } from "./client.js";

/**
 * A call sends its first command only once the client has a ready
 * connection. A call that fails before that provably sent nothing, so it can
 * fail as soon as a connection attempt fails (a refused connection, a wrong
 * password), with the driver's error as cause, instead of waiting out its
 * timeout and warning that a write may still be applied.
 *
 * ioredis reports a database index out of range (SELECT refused) as an
 * error event and then declares the connection ready on database 0, where
 * the store would read and write another database's keys. A permanent
 * refusal seen on a connection therefore stops every call until the client
 * connects again.
 */
export class ConnectionGate {
  readonly #client: RedisClient;
  readonly #server: string;
  /** The permanent refusal seen on the current connection, if any. */
  #refusal: Error | null = null;
  readonly #onConnecting = () => {
    this.#refusal = null;
  };
  readonly #onError = (error: Error) => {
    if (permanentProblem(error)) this.#refusal = error;
  };

  constructor(client: RedisClient, server: string) {
    this.#client = client;
    this.#server = server;
    client.on("connecting", this.#onConnecting);
    client.on("error", this.#onError);
  }

  /** Stops listening to the client (a handed client outlives the store). */
  detach(): void {
    this.#client.off("connecting", this.#onConnecting);
    this.#client.off("error", this.#onError);
  }

  /** The client has a ready connection and no refusal stands: open() would resolve at once. */
  get ready(): boolean {
    return this.#refusal === null && this.#client.status === "ready";
  }

  /**
   * Resolves once the client has a ready connection. Rejects with
   * STORAGE_MISCONFIGURED or STORAGE_UNAVAILABLE (cause: the driver's error)
   * as soon as a connection attempt fails, and stops waiting when `expired`
   * aborts (the caller's deadline then answers).
   */
  async open(expired: AbortSignal): Promise<void> {
    for (;;) {
      if (this.#refusal) throw connectionError(this.#refusal, this.#server);
      const status = this.#client.status;
      if (status === "ready") return;
      if (status === "end") {
        throw new StorageUnavailableError(
          STORAGE_NAME,
          `the ioredis client for ${this.#server} has ended and will not reconnect (nothing was sent): give the store an open client`,
        );
      }
      // A lazy client connects on its first command; this call sends none until ready.
      if (status === "wait") this.#client.connect().catch(() => {});
      await this.#nextOutcome(expired);
    }
  }

  /** Waits for the current connection attempt: ready, failed (rejects), or ended. */
  #nextOutcome(expired: AbortSignal): Promise<void> {
    const client = this.#client;
    return new Promise<void>((resolve, reject) => {
      const settle = (failure?: Error) => {
        client.off("ready", onReady);
        client.off("error", onError);
        client.off("end", onEnd);
        expired.removeEventListener("abort", onAbort);
        if (failure) reject(failure);
        else resolve();
      };
      const onReady = () => settle();
      const onError = (error: Error) => settle(connectionError(error, this.#server));
      // The next round of open() reports the ended client.
      const onEnd = () => settle();
      const onAbort = () => settle(expired.reason);
      client.on("ready", onReady);
      client.on("error", onError);
      client.on("end", onEnd);
      expired.addEventListener("abort", onAbort);
      if (expired.aborted) onAbort();
    });
  }
}
