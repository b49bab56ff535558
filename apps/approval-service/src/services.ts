/**
 * The outside world the approval workflow talks to: a risk service and a
 * notification channel. Each comes in two forms: over HTTP (`--risk-url`,
 * `--notify-url`), as a real deployment has them, and built in (a simulated
 * check, a line on stdout) so the sample runs with nothing else.
 */

/** What a risk check needs to know about an expense. */
export interface RiskQuery {
  amount: number;
  currency: string;
  requester: string;
}

export interface RiskChecker {
  /** A score from 0 (harmless) to 100. Gives up (rejects) once `signal` fires. */
  score(query: RiskQuery, signal: AbortSignal): Promise<number>;
}

/** A decision to tell the requester about. */
export interface Notification {
  runId: string;
  requester: string;
  amount: number;
  currency: string;
  decision: "approved" | "rejected";
}

export interface Notifier {
  /**
   * Delivers `notification`. Called at least once per decision: a worker
   * that crashes after delivering and before journalling delivers again,
   * with the same `idempotencyKey`, which the receiver uses to drop the repeat.
   */
  send(notification: Notification, idempotencyKey: string, signal: AbortSignal): Promise<void>;
}

/** A risk or notification service answered with something other than success. */
export class ServiceCallError extends Error {
  readonly code = "SERVICE_CALL_FAILED";
  constructor(
    readonly url: string,
    message: string,
  ) {
    super(message);
    this.name = "ServiceCallError";
  }
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it fires. */
export function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * A stand-in for a real risk model: takes `delayMs` (a slow external check)
 * and scores by amount. Honours the signal, so a cancelled run stops waiting.
 */
export class SimulatedRiskChecker implements RiskChecker {
  constructor(readonly delayMs: number) {}

  async score(query: RiskQuery, signal: AbortSignal): Promise<number> {
    await abortableDelay(this.delayMs, signal);
    return Math.min(100, Math.round(Math.log10(Math.max(1, query.amount)) * 15));
  }
}

/** POSTs the query to a risk service, which answers `{ "score": 0-100 }`. */
export class HttpRiskChecker implements RiskChecker {
  constructor(readonly url: string) {}

  async score(query: RiskQuery, signal: AbortSignal): Promise<number> {
    const response = await fetch(this.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(query),
      signal,
    });
    if (!response.ok) {
      throw new ServiceCallError(
        this.url,
        `The risk service at ${this.url} answered ${response.status}; the step is retried.`,
      );
    }
    const body = (await response.json()) as { score?: unknown };
    if (typeof body.score !== "number" || !(body.score >= 0 && body.score <= 100)) {
      throw new ServiceCallError(
        this.url,
        `The risk service at ${this.url} must answer {"score": 0-100}; it answered ${JSON.stringify(body).slice(0, 200)}.`,
      );
    }
    return body.score;
  }
}

/** Prints each decision as a JSON line: the built-in channel, for trying the sample out. */
export class StdoutNotifier implements Notifier {
  constructor(readonly write: (line: string) => void = (line) => process.stdout.write(line)) {}

  async send(notification: Notification, idempotencyKey: string): Promise<void> {
    this.write(`${JSON.stringify({ event: "notify", idempotencyKey, ...notification })}\n`);
  }
}

/**
 * POSTs each decision to a webhook with an `Idempotency-Key` header: the
 * same key for every delivery of one decision, so the receiver keeps one.
 */
export class HttpNotifier implements Notifier {
  constructor(readonly url: string) {}

  async send(notification: Notification, idempotencyKey: string, signal: AbortSignal) {
    const response = await fetch(this.url, {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": idempotencyKey },
      body: JSON.stringify(notification),
      signal,
    });
    // Drain the body so the connection is reused.
    await response.arrayBuffer();
    if (!response.ok) {
      throw new ServiceCallError(
        this.url,
        `The notification webhook at ${this.url} answered ${response.status}; the step is retried.`,
      );
    }
  }
}
