import type { RunStatus } from "@wf/core";

interface RunRef {
  workflowId: string;
  runId: string;
}

/** What a worker reports, by event name. */
export interface WorkerEvents {
  /** This worker created a run from a start job (step 0 is journalled). */
  runStarted: RunRef;
  /** A step was appended to the journal by this worker. */
  stepAppended: RunRef & { step: number; status: RunStatus };
  /** The run waits for input; it holds no job until `answer`. */
  waiting: RunRef & { step: number; requestId: string };
  completed: RunRef & { step: number };
  /** The run this worker was stepping was cancelled (by `WorkflowClient.cancel` or `cancelRun`); its node's signal fired. `step` is the cancel step. */
  cancelled: RunRef & { step: number };
  /** The run failed and no retry is left. */
  failed: RunRef & { step: number; message: string };
  /** A failed node will run again from a delayed job. */
  retryScheduled: RunRef & { step: number; attempt: number; delayMs: number };
  /** Another writer advanced the run (STEP_CONFLICT) or the queue took the job back: this worker let it go. */
  leaseLost: RunRef & { reason: string };
  /** The job went to the queue's failed/dead-letter state. */
  deadLettered: RunRef & { message: string };
}

export type WorkerEventName = keyof WorkerEvents;
