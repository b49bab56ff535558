export type {
  ActionRequest,
  ActionResult,
  BranchView,
  CancelRequest,
  CancelResult,
  DiffView,
  RunView,
  StateChange,
  StatusCounts,
  StepSummary,
  StepView,
} from "./api-types.js";
export {
  DEFAULT_HOST,
  DEFAULT_PORT,
  type Inspector,
  type InspectorOptions,
  startInspector,
} from "./start-inspector.js";
