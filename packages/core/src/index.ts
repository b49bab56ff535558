// The `@wf/core` entry, for workflow authors: the engine, nodes, errors, ids,
// journal types, MemoryStorage and the contract types. What adapter authors
// need besides (cursors, record checks, option checks) is in `@wf/core/storage`.
export { type CancelRunOptions, cancelRun } from "./cancel.js";
export { DEFAULT_LOG_DIR } from "./default-storage.js";
export { type Edge, WorkflowDefinition } from "./definition.js";
export {
  type StateCodec,
  type StepOptions,
  WorkflowEngine,
  type WorkflowEngineOptions,
  type WorkflowSpec,
} from "./engine.js";
export {
  CorruptRecordError,
  ERROR_CODES,
  ForkOfCancelStepError,
  hasErrorCode,
  type IncompatibleNode,
  IncompatibleStateError,
  InvalidCursorError,
  InvalidIdError,
  NotSerializableError,
  quoteId,
  RunExistsError,
  RunNotFoundError,
  StepAbortedError,
  StepConflictError,
  StepNotFoundError,
  StorageClosedError,
  StorageMisconfiguredError,
  StorageUnavailableError,
  UnexpectedInputError,
  WorkflowError,
  type WorkflowErrorCode,
} from "./errors.js";
export type { WorkflowEvent, WorkflowEventType } from "./events.js";
export {
  assertValidId,
  assertValidRequestId,
  ID_PATTERN,
  isValidId,
  MAX_ID_LENGTH,
} from "./ids.js";
export {
  type DefinitionFingerprint,
  type ForkOrigin,
  type InputRequest,
  JOURNAL_FORMAT_VERSION,
  type JsonValue,
  type NodeStatus,
  type RecordedError,
  RUN_STATUSES,
  type RunMetadata,
  type RunStatus,
  type StepRecord,
} from "./journal.js";
export { assertJsonSerializable, MAX_JSON_DEPTH } from "./json-state.js";
export {
  MemoryStorage,
  type MemoryStorageData,
  type MemoryStorageOptions,
  type MemoryStoredRun,
} from "./memory-storage.js";
export {
  type InputRequestOptions,
  Node,
  type NodeOptions,
  type RequestInput,
  type SharedState,
  type StepContext,
} from "./node.js";
export { newRunId, RUN_ID_PATTERN } from "./run-id.js";
export type {
  DamagedRun,
  ListRunsOptions,
  ListStepsOptions,
  Page,
  PageOptions,
  RunPage,
  StorageCapabilities,
  WorkflowStorage,
} from "./storage.js";
export { readTimelineStep } from "./timeline.js";
