/**
 * Hostile input: the fast-check properties of `properties/` on one store,
 * with many cases (the tests run the same properties with a few). Each
 * property runs under its own seed, derived from the torture's and printed,
 * so a failure replays with `--seed`; fast-check shrinks it to a minimal case.
 */
import fc from "fast-check";
import { describeError } from "./error-text.js";
import { closeContext, openContext } from "./properties/context.js";
import { damagedProperty } from "./properties/damaged.js";
import { idsProperty } from "./properties/ids.js";
import { inputsProperty } from "./properties/inputs.js";
import { asProperty, type HostileProperty } from "./properties/property.js";
import { stateProperty } from "./properties/state.js";
import { deriveSeed } from "./random.js";
import type { StoreReport } from "./report.js";
import type { StoreTarget } from "./target.js";

export const HOSTILE_PROPERTIES: readonly HostileProperty<unknown>[] = [
  idsProperty,
  stateProperty,
  inputsProperty,
  damagedProperty,
];

export interface HostileOptions {
  /** Cases per property, at most. */
  numRuns: number;
  /** Time per property, shrinking included; a property stopped by it reports the cases it ran. */
  timeLimitMs: number;
  seed: number;
  progress: (message: string) => void;
}

/** A counterexample as one line, cut: hostile values can be megabytes. */
function showCase(value: unknown): string {
  const text = fc.stringify(value);
  return text.length > 400 ? `${text.slice(0, 400)}… (${text.length} characters)` : text;
}

/** Runs every hostile property on one store and adds the hostile rows to its report. */
export async function hostileSection(
  target: StoreTarget,
  options: HostileOptions,
  report: StoreReport,
): Promise<void> {
  const context = await openContext(target);
  try {
    for (const property of HOSTILE_PROPERTIES) {
      const seed = deriveSeed(options.seed, "hostile", target.kind, property.name);
      options.progress(`${target.kind} hostile ${property.name}: fast-check seed ${seed}`);
      const started = Date.now();
      const details = await fc.check(asProperty(property, context), {
        numRuns: options.numRuns,
        seed,
        plugins: [fc.interruptAfterTimeLimit(options.timeLimitMs)],
      });
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      const ran = details.failed
        ? `failed after ${details.numRuns} cases, ${details.numShrinks} shrinks`
        : `${details.numRuns} cases${details.interrupted ? " (time limit)" : ""}`;
      report.judge(
        "hostile",
        `${property.name}: ${property.claim}`,
        `${ran}, ${seconds} s, fast-check seed ${seed}`,
        !details.failed,
      );
      if (details.failed) {
        report.fail(
          "hostile",
          `${options.seed} (fast-check ${seed}, path ${details.counterexamplePath})`,
          `${property.name} on ${target.kind}: ${describeError(details.errorInstance)}; minimal case ${showCase(details.counterexample)}`,
        );
      }
    }
  } finally {
    await closeContext(context);
  }
}
