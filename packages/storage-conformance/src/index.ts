export { defineStorageConformance, SUITES } from "./define.js";
export { GOLDEN_DIR, loadGolden } from "./golden.js";
export type { ConformanceOptions, DamageTarget, Harness, StoreContext } from "./harness.js";
// Builders for adapter authors' own tests that write through the contract directly;
// also at `@wf/storage-conformance/records`, which does not load vitest.
export {
  collectPages,
  rejection,
  sampleRun,
  sampleStep,
  seedRun,
  snapshotRun,
  uniqueRunId,
} from "./records.js";
export { type NormalisedJournal, readJournal, SCENARIOS, type ScenarioEnv } from "./scenarios.js";
