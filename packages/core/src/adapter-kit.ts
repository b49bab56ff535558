// The `@wf/core/storage` entry: what an adapter author needs to implement the
// storage contract (CONTRACT.md), apart from the engine that workflow authors
// import from `@wf/core`. The contract types are re-exported here as well, so
// an adapter needs one import; the error classes stay in `@wf/core`, where
// callers catch them.
export {
  compareRunsNewestFirst,
  decodeCursor,
  encodeCursor,
  isRunPosition,
  isStepPosition,
  isTextPosition,
  pageRuns,
} from "./cursor.js";
export { GroupCommit, type GroupLimits, type Outcome, type Queued } from "./group-commit.js";
export { assertRunIds } from "./ids.js";
export { advanceRunMetadata } from "./journal.js";
export { checkFromUrlOptions, checkOptions, maskPassword } from "./options-check.js";
export {
  checkRunMetadata,
  checkStepRecord,
  type ExpectedRecord,
  parseRecordJson,
} from "./record-check.js";
export { stepRecordJson } from "./record-json.js";
export {
  type CheckedListOptions,
  checkListOptions,
  type DamagedRun,
  DEFAULT_PAGE_SIZE,
  type ListRunsOptions,
  type ListStepsOptions,
  MAX_PAGE_SIZE,
  missingStorageMethods,
  type Page,
  type PageOptions,
  pageSize,
  type RunPage,
  STORAGE_METHODS,
  type StorageCapabilities,
  type WorkflowStorage,
} from "./storage.js";
