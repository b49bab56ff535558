import type { ForkOrigin, InputRequest, RunStatus } from "./journal.js";

interface StepRef {
  workflowId: string;
  runId: string;
  /** The step the event is about: the record just appended (0 for a new run). */
  step: number;
}

/**
 * What an engine reports through its `onEvent` option, after the journal
 * write the event is about. A worker forwards these and adds its own.
 */
export type WorkflowEvent =
  /** A new run or a fork was created; `step` is its first record. */
  | (StepRef & { type: "runStarted"; forkedFrom: ForkOrigin | null })
  /** A node's step was appended. Followed by `waiting`, `completed` or `failed` when the status says so. */
  | (StepRef & { type: "stepAppended"; nodeId: string; status: RunStatus })
  | (StepRef & { type: "waiting"; request: InputRequest })
  | (StepRef & { type: "completed" })
  | (StepRef & { type: "failed"; error: Error })
  | (StepRef & { type: "cancelled"; reason: string });

export type WorkflowEventType = WorkflowEvent["type"];

/** Calls `listener`, ignoring what it throws: a listener cannot fail the step it hears about. */
export function emitEvent(
  listener: ((event: WorkflowEvent) => void) | undefined,
  event: WorkflowEvent,
): void {
  if (listener === undefined) return;
  try {
    listener(event);
  } catch {
    // Deliberately ignored: the step is journalled already.
  }
}
