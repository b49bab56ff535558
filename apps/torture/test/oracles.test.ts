// The torture's own judges: the seeded random source replays, the JSON
// oracle says what JSON holds faithfully, the table shows every row and
// failure. If these were wrong, every section's verdict would be.
import { describe, expect, it } from "vitest";
import { jsonFaithful } from "../src/properties/values.js";
import { deriveSeed, SeededRandom } from "../src/random.js";
import { StoreReport } from "../src/report.js";
import { formatReport } from "../src/table.js";

describe("the torture's judges", () => {
  it("a seed makes the same choices again, and derived seeds differ per part", () => {
    const draw = (seed: number) => {
      const random = new SeededRandom(seed);
      return Array.from({ length: 5 }, () => random.int(0, 1000));
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
    expect(deriveSeed(1, "crash", "fs", 3)).toBe(deriveSeed(1, "crash", "fs", 3));
    expect(deriveSeed(1, "crash", "fs", 3)).not.toBe(deriveSeed(1, "crash", "fs", 4));
  });

  it("weighted choices follow their weights and never fall outside", () => {
    const random = new SeededRandom(1);
    const counts = { rare: 0, common: 0 };
    for (let i = 0; i < 2000; i++) {
      counts[
        random.weighted<"rare" | "common">([
          ["rare", 1],
          ["common", 9],
        ])
      ] += 1;
    }
    expect(counts.rare).toBeGreaterThan(100);
    expect(counts.common).toBeGreaterThan(counts.rare * 5);
  });

  it("JSON holds plain data faithfully, undefined object properties included", () => {
    expect(jsonFaithful({ a: [1, "é", null, { b: false }], c: undefined })).toBe(true);
    expect(jsonFaithful(JSON.parse('{"__proto__":{"x":1}}'))).toBe(true);
    expect(jsonFaithful(Object.create(null))).toBe(true);
  });

  it("JSON does not hold undefined in arrays, holes, Dates, bigints, cycles, symbol keys", () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    for (const value of [
      [1, undefined],
      Object.assign(new Array(3), { 0: 1, 2: 2 }),
      new Date(0),
      10n,
      Number.NaN,
      cycle,
      { [Symbol("k")]: 1 },
      Object.defineProperty({}, "hidden", { value: 1 }),
      Object.assign([1], { extra: 2 }),
      new Map(),
      () => 1,
    ]) {
      expect(jsonFaithful({ value })).toBe(false);
    }
  });

  it("a shared reference is not a cycle", () => {
    const shared = { x: 1 };
    expect(jsonFaithful({ a: shared, b: [shared] })).toBe(true);
  });

  it("the table names each section once, judges rows, and lists failures with their seeds", () => {
    const report = new StoreReport("fs (FileSystemStorage)", "/tmp/x");
    report.info("crash", "cycles", 200);
    report.judge("crash", "lost", 0, true);
    report.judge("races", "duplicates", 2, false);
    report.fail("races", 42, "run 0: step 7 is stored 2 times");
    const text = formatReport(report);
    expect(text).toContain("== fs (FileSystemStorage): FAILED ==");
    expect(text.match(/^crash /gm)).toHaveLength(1);
    expect(text).toMatch(/lost\s+0\s+ok/);
    expect(text).toMatch(/duplicates\s+2\s+FAIL/);
    expect(text).toContain("- races, seed 42: run 0: step 7 is stored 2 times");
  });
});
