/** `WorkflowClient.wait` found the run's job in the queue's failed/dead-letter state. */
export class JobDeadLetteredError extends Error {
  readonly code = "JOB_DEAD_LETTERED";
  constructor(
    readonly workflowId: string,
    readonly runId: string,
    readonly reason: string,
  ) {
    super(
      `The job of run ${JSON.stringify(runId)} (workflow ${JSON.stringify(workflowId)}) was dead-lettered: ${reason}`,
    );
    this.name = "JobDeadLetteredError";
  }
}

/** `WorkflowClient.wait` gave up after `timeoutMs`; the run goes on and can be waited for again. */
export class WaitTimeoutError extends Error {
  readonly code = "WAIT_TIMEOUT";
  constructor(
    readonly workflowId: string,
    readonly runId: string,
    readonly timeoutMs: number,
  ) {
    super(
      `Run ${JSON.stringify(runId)} (workflow ${JSON.stringify(workflowId)}) did not stop within ${timeoutMs} ms; it is still queued or running. Wait again, or check that a worker serving this workflow is started.`,
    );
    this.name = "WaitTimeoutError";
  }
}

/** `WorkflowClient.answer` on a run that is not waiting for input. */
export class RunNotWaitingError extends Error {
  readonly code = "RUN_NOT_WAITING";
  constructor(
    readonly workflowId: string,
    readonly runId: string,
    readonly status: string,
  ) {
    super(
      `Run ${JSON.stringify(runId)} (workflow ${JSON.stringify(workflowId)}) is ${status}, not waiting_for_input: there is nothing to answer. Call wait() first.`,
    );
    this.name = "RunNotWaitingError";
  }
}
