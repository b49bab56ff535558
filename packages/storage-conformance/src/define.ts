import { describe, expect, it } from "vitest";
import { type ConformanceOptions, createHarness } from "./harness.js";
import { appendSuite } from "./suites/append.js";
import { cancelSuite } from "./suites/cancel.js";
import { closingSuite } from "./suites/closing.js";
import { costSuite } from "./suites/cost.js";
import { crossProcessSuite } from "./suites/cross-process.js";
import { damageSuite } from "./suites/damage.js";
import { deletionSuite } from "./suites/deletion.js";
import { fidelitySuite } from "./suites/fidelity.js";
import { forkSuite } from "./suites/fork.js";
import { goldenSuite } from "./suites/golden-journals.js";
import { idsSuite } from "./suites/ids.js";
import { inputSuite } from "./suites/input.js";
import { listingSuite } from "./suites/listing.js";
import { recordsSuite } from "./suites/records.js";
import { resumeSuite } from "./suites/resume.js";
import { retentionSuite } from "./suites/retention.js";
import { validationSuite } from "./suites/validation.js";

/** Every group of the suite, in the order they run. One group per file under `suites/`. */
export const SUITES = [
  recordsSuite,
  appendSuite,
  crossProcessSuite,
  listingSuite,
  deletionSuite,
  damageSuite,
  closingSuite,
  idsSuite,
  fidelitySuite,
  retentionSuite,
  resumeSuite,
  forkSuite,
  cancelSuite,
  validationSuite,
  inputSuite,
  costSuite,
  goldenSuite,
];

/**
 * Registers the whole conformance suite for one adapter in the calling
 * vitest file. Call it at the top level of a test file:
 *
 * ```ts
 * defineStorageConformance({ name: "MyStorage", create: () => new MyStorage(…) });
 * ```
 */
export function defineStorageConformance(options: ConformanceOptions): void {
  if (typeof options?.create !== "function") {
    throw new TypeError("defineStorageConformance needs `create`, a function returning a store.");
  }
  describe(`storage conformance: ${options.name}`, () => {
    const harness = createHarness(options);
    // Before any suite: a store without the contract's methods fails here once, naming
    // them, and the harness skips every later test instead of repeating "is not a function".
    it("the store has every method of the contract", async () => {
      const missing = await harness.checkShape();
      expect(missing, `the store lacks contract methods: ${missing.join(", ")}`).toEqual([]);
    });
    for (const suite of SUITES) suite(harness);
  });
}
