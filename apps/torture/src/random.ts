import { createHash } from "node:crypto";

/**
 * A seeded random source (mulberry32): every random choice of the torture
 * comes from one, so `--seed N` makes the same choices again. Timings still
 * vary between machines; the choices (kill points, sizes, cases) do not.
 */
export class SeededRandom {
  #state: number;

  constructor(readonly seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** One of `choices`, each as likely as its weight. */
  weighted<T>(choices: readonly (readonly [T, number])[]): T {
    const total = choices.reduce((sum, [, weight]) => sum + weight, 0);
    let point = this.next() * total;
    for (const [choice, weight] of choices) {
      point -= weight;
      if (point < 0) return choice;
    }
    return (choices.at(-1) as readonly [T, number])[0];
  }
}

/**
 * The seed of one part of the torture (a section on a store, a crash cycle),
 * derived from the run's seed and the part's name: replaying one store or
 * section alone with `--seed` makes the same choices as the full run did.
 */
export function deriveSeed(seed: number, ...path: (string | number)[]): number {
  const digest = createHash("sha256")
    .update(`${seed}/${path.join("/")}`)
    .digest();
  return digest.readUInt32BE(0);
}

/** A fresh seed for a run nobody asked to replay. */
export function newSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}
