// Suites a queue binding runs in its own vitest files, against its real
// server. Kept out of the main entry so that only tests load vitest.

export {
  type CrashScenarioOptions,
  crashScenarioSuite,
  type WorkerProcess,
} from "./crash-scenario.js";
export type { CrashFixtureConfig } from "./fixture.js";
export { type QueueSuiteOptions, queueContractSuite } from "./queue-contract.js";
export { deferred, uniqueId, until } from "./waiting.js";
export {
  storedSteps,
  type WorkerScenarioOptions,
  workerScenariosSuite,
} from "./worker-scenarios.js";
export { Ask, chain, Flaky, Visit } from "./workflows.js";
