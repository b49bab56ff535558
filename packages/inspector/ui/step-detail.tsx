/** What happened at a step: the answers given, the pending question, the error and its stack. */
import type { StepRecord } from "@wf/core";
import type { ReactNode } from "react";
import { formatTime, preview, StatusBadge } from "./common.tsx";

export function StepFacts({ record, answerForm }: { record: StepRecord; answerForm: ReactNode }) {
  const inputs = Object.entries(record.inputs);
  // A cancel step carries its reason as its error; it is shown as a reason, never as a failure.
  const cancelled = record.status === "cancelled";
  return (
    <div className="step-facts" data-testid="step-facts">
      <dl className="facts">
        <dt>Step</dt>
        <dd>
          #{record.step} <StatusBadge status={record.status} />
        </dd>
        <dt>Ran</dt>
        <dd className="mono">
          {record.previousNodeId ?? (cancelled ? "(nothing: the run was cancelled)" : "(start)")}
        </dd>
        <dt>Next</dt>
        <dd className="mono">{record.nextNodeId ?? "—"}</dd>
        <dt>Parent</dt>
        <dd>{record.parent === null ? "—" : `#${record.parent}`}</dd>
        <dt>At</dt>
        <dd>{formatTime(record.createdAt)}</dd>
        {record.runId ? (
          <>
            <dt>Stored in</dt>
            <dd className="mono">{record.runId}</dd>
          </>
        ) : null}
      </dl>
      {inputs.length > 0 ? (
        <div className="card">
          <h3>Inputs answered</h3>
          <ul className="inputs">
            {inputs.map(([requestId, value]) => (
              <li key={requestId}>
                <code>{requestId}</code> = <code>{preview(value, 200)}</code>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {record.awaitingInput ? (
        <div className="card question" data-testid="question">
          <h3>Waiting for input</h3>
          <p className="prompt">{record.awaitingInput.prompt}</p>
          <p className="muted">
            request id <code>{record.awaitingInput.requestId}</code> · node{" "}
            <code>{record.awaitingInput.nodeId}</code>
          </p>
          {record.awaitingInput.options ? (
            <p className="muted">
              options:{" "}
              {record.awaitingInput.options.map((option) => preview(option, 40)).join(", ")}
            </p>
          ) : null}
          {answerForm}
        </div>
      ) : null}
      {cancelled ? (
        <div className="card cancelled" data-testid="step-cancelled">
          <h3>Cancelled</h3>
          <p data-testid="cancel-reason">{record.error?.message ?? "(no reason given)"}</p>
          {record.nextNodeId ? (
            <p className="muted">
              <code>{record.nextNodeId}</code> would have run next.
            </p>
          ) : null}
          <p className="muted">
            Nothing runs from this step.{" "}
            {record.parent === null
              ? null
              : `Select #${record.parent} (the step before) to run on from there as a new branch, or to fork from it.`}
          </p>
        </div>
      ) : record.error ? (
        <div className="card failure" data-testid="step-error">
          <h3>
            {record.error.name}
            {record.error.code ? <code> {record.error.code}</code> : null}
            {record.error.nodeId ? <span className="muted"> in {record.error.nodeId}</span> : null}
          </h3>
          <p>{record.error.message}</p>
          {record.error.retryAt ? (
            <p className="muted">
              Retry scheduled for {new Date(record.error.retryAt).toLocaleString()}: the run reads
              failed until then.
            </p>
          ) : null}
          {record.error.stack ? <pre className="stack">{record.error.stack}</pre> : null}
        </div>
      ) : null}
    </div>
  );
}
