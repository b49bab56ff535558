/**
 * How one step can be given up: by the caller's signal, or by `cancel()`.
 * The node's AbortController is made only when something asks for its
 * signal or aborts, since most steps are never given up and a controller
 * per step is a measurable part of a fast step.
 */
export class StepAbort {
  #controller: AbortController | null = null;
  #reason: unknown;
  #aborted = false;
  /** Settles the pending `race` with GIVEN_UP. */
  #giveUp: (() => void) | null = null;
  #unlink: () => void = () => undefined;

  /** Follows `signal` (the caller's), when given. */
  constructor(signal: AbortSignal | undefined) {
    if (signal === undefined) return;
    if (!(signal instanceof AbortSignal)) {
      throw new TypeError("step's `signal` must be an AbortSignal.");
    }
    const forward = () => this.abort(signal.reason);
    if (signal.aborted) forward();
    else {
      signal.addEventListener("abort", forward, { once: true });
      this.#unlink = () => signal.removeEventListener("abort", forward);
    }
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): unknown {
    return this.#reason;
  }

  /** The node's signal. */
  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    if (this.#aborted && !this.#controller.signal.aborted) this.#controller.abort(this.#reason);
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    this.#giveUp?.();
  }

  /** `work`'s result, or GIVEN_UP as soon as the step is given up: a node that ignores its signal cannot hold the step. */
  race<T>(work: Promise<T>): Promise<T | typeof GIVEN_UP> {
    if (this.#aborted) return Promise.resolve(GIVEN_UP);
    // One promise per step, not Promise.race's two: most steps are never given up.
    return new Promise<T | typeof GIVEN_UP>((resolve, reject) => {
      this.#giveUp = () => resolve(GIVEN_UP);
      work.then(resolve, reject);
    });
  }

  /** Stops following the caller's signal. */
  dispose(): void {
    this.#unlink();
  }
}

export const GIVEN_UP = Symbol("given up");
