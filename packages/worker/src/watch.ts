/** A step's signal, and what fires it: a check run every `intervalMs`, or `giveUp`. */
export interface StepWatch<Why> {
  readonly signal: AbortSignal;
  /** Why the signal fired, once it has. */
  readonly reason: Why | undefined;
  /** Fires the signal with `why` (the first reason given wins). */
  giveUp(why: Why): void;
  /** Stops checking. */
  stop(): void;
}

/**
 * Runs `check` every `intervalMs` until stopped; the first non-null answer
 * fires the signal. A check that throws (the store briefly unreachable) is
 * tried again at the next tick: the step goes on meanwhile, and its append
 * stays conditional whatever the watch missed. Checks never overlap.
 */
export function watchStep<Why>(options: {
  intervalMs: number;
  check: () => Promise<Why | null>;
  /** The text of the signal's reason. */
  describe: (why: Why) => string;
}): StepWatch<Why> {
  const controller = new AbortController();
  let reason: Why | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const giveUp = (why: Why) => {
    if (reason !== undefined || stopped) return;
    reason = why;
    controller.abort(new Error(options.describe(why)));
  };
  const schedule = () => {
    timer = setTimeout(async () => {
      try {
        const why = await options.check();
        if (why !== null) giveUp(why);
      } catch {
        // Checked again next tick.
      }
      if (!stopped && reason === undefined) schedule();
    }, options.intervalMs);
    timer.unref();
  };
  schedule();
  return {
    signal: controller.signal,
    get reason() {
      return reason;
    },
    giveUp,
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
