export { defineStorageConformance, SUITES } from "./define.js";
export { GOLDEN_DIR, loadGolden } from "./golden.js";
export type { ConformanceOptions, Harness, StoreContext } from "./harness.js";
export { type NormalisedJournal, readJournal, SCENARIOS, type ScenarioEnv } from "./scenarios.js";
