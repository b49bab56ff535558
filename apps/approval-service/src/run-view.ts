import { hasErrorCode, type RunMetadata, type StepRecord, type WorkflowStorage } from "@wf/core";
import { jobKey, type RunQueue } from "@wf/worker";
import { WORKFLOW_ID } from "./workflow.js";

/** One line of GET /requests: what the run's metadata says, without reading its steps. */
export interface RunSummary {
  runId: string;
  status: RunMetadata["status"];
  headStep: number;
  createdAt: string;
  updatedAt: string;
}

/** The pending question of a waiting run, and how to answer it. */
export interface PendingQuestion {
  requestId: string;
  prompt: string;
  options: unknown[] | null;
  answerWith: { method: "POST"; path: string; body: { approve: "yes | no" } };
}

/** GET /requests/:runId of a run a worker has created. */
export interface RunView extends RunSummary {
  /** The head step: the last node that ran and the next one to run. */
  head: { step: number; node: string | null; next: string | null };
  question: PendingQuestion | null;
  /** Why it failed or was cancelled. */
  error: { code: string | null; message: string } | null;
  state: unknown;
}

/** A run accepted by POST /requests whose creation job no worker has taken yet. */
export interface QueuedView {
  runId: string;
  status: "queued" | "dead_lettered";
  error: { code: string; message: string } | null;
}

export function summarize(run: RunMetadata): RunSummary {
  return {
    runId: run.runId,
    status: run.status,
    headStep: run.headStep,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
  };
}

/**
 * Status and head come from the head record itself, not from metadata read
 * a moment earlier, so a step appended between the two reads cannot pair
 * one step's status with another's state.
 */
function describe(run: RunMetadata, head: StepRecord): RunView {
  const waiting = head.status === "waiting_for_input" ? head.awaitingInput : null;
  return {
    ...summarize({ ...run, status: head.status, headStep: head.step, updatedAt: head.createdAt }),
    head: { step: head.step, node: head.previousNodeId, next: head.nextNodeId },
    question: waiting && {
      requestId: waiting.requestId,
      prompt: waiting.prompt,
      options: waiting.options,
      answerWith: {
        method: "POST",
        path: `/requests/${run.runId}/answer`,
        body: { approve: "yes | no" },
      },
    },
    error: head.error && { code: head.error.code, message: head.error.message },
    state: head.shared,
  };
}

/**
 * The run as a worker journalled it, or, before a worker created it, what
 * the queue says of its creation job; null when neither knows the run.
 * A run id is known before the run exists (start returns at once), so
 * "not in the store" alone does not make it unknown.
 */
export async function readRun(
  storage: WorkflowStorage,
  queue: RunQueue,
  runId: string,
): Promise<RunView | QueuedView | null> {
  try {
    const run = await storage.getRun(WORKFLOW_ID, runId);
    return describe(run, await storage.getLatestStep(WORKFLOW_ID, runId));
  } catch (error) {
    if (!hasErrorCode(error, "RUN_NOT_FOUND")) throw error;
  }
  const job = await queue.jobState(jobKey({ workflowId: WORKFLOW_ID, runId, atStep: -1 }));
  if (job.state === "pending" || job.state === "active") {
    // The worker may have created it between the two reads.
    try {
      return describe(
        await storage.getRun(WORKFLOW_ID, runId),
        await storage.getLatestStep(WORKFLOW_ID, runId),
      );
    } catch (error) {
      if (!hasErrorCode(error, "RUN_NOT_FOUND")) throw error;
    }
    return { runId, status: "queued", error: null };
  }
  if (job.state === "dead") {
    return {
      runId,
      status: "dead_lettered",
      error: { code: "JOB_DEAD_LETTERED", message: job.message },
    };
  }
  return null;
}
