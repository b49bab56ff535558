/**
 * Step, run or fork from the selected step, and answer a pending question.
 * Each goes through the same validation as the API on the server; a
 * `Cannot resume:` refusal is shown as such.
 */
import type { InputRequest, JsonValue } from "@wf/core";
import { type FormEvent, useState } from "react";
import type { ActionAvailability, ActionRequest, ActionResult } from "../src/api-types.ts";
import { postAction, token } from "./api.ts";
import { ErrorBox, preview } from "./common.tsx";

export interface ActionOutcome {
  request: ActionRequest;
  result: ActionResult;
}

function unavailableReason(actions: ActionAvailability): string | null {
  if (!actions.available) return actions.reason;
  if (!token)
    return "This page was opened without the inspector's token: open the address the inspector printed to act on runs.";
  return null;
}

export function useAction(
  workflowId: string,
  runId: string,
  onDone: (outcome: ActionOutcome) => void,
) {
  const [busy, setBusy] = useState<ActionRequest["action"] | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const act = async (request: ActionRequest) => {
    setBusy(request.action);
    setError(null);
    try {
      onDone({ request, result: await postAction(workflowId, runId, request) });
    } catch (caught) {
      setError(caught instanceof Error ? caught : new Error(String(caught)));
    } finally {
      setBusy(null);
    }
  };
  return { busy, error, act };
}

export function TimeTravel(props: {
  step: number;
  /** The selected step cancelled the run: nothing runs from it, and a fork of it would be cancelled from birth. */
  cancelStep?: boolean;
  actions: ActionAvailability;
  busy: ActionRequest["action"] | null;
  error: Error | null;
  message: string | null;
  act: (request: ActionRequest) => void;
}) {
  const reason =
    unavailableReason(props.actions) ??
    (props.cancelStep
      ? `step #${props.step} cancelled the run, so nothing runs from it: select the step before it to run on or fork from there.`
      : null);
  const disabled = reason !== null || props.busy !== null;
  return (
    <div className="time-travel" data-testid="time-travel">
      <div className="tt-buttons">
        <span className="tt-title">Time travel from #{props.step}</span>
        <button
          type="button"
          disabled={disabled}
          onClick={() => props.act({ action: "step", step: props.step })}
        >
          {props.busy === "step" ? "Stepping…" : "Step"}
        </button>
        <button
          type="button"
          disabled={disabled}
          onClick={() => props.act({ action: "run", step: props.step })}
        >
          {props.busy === "run" ? "Running…" : "Run"}
        </button>
        <button
          type="button"
          disabled={disabled}
          onClick={() => props.act({ action: "fork", step: props.step })}
        >
          {props.busy === "fork" ? "Forking…" : "Fork from this step"}
        </button>
      </div>
      {reason ? (
        <p className="notice unavailable" data-testid="tt-unavailable">
          Unavailable: {reason}
        </p>
      ) : null}
      {props.error ? <ErrorBox error={props.error} /> : null}
      {props.message ? (
        <p className="notice ok" data-testid="tt-message">
          {props.message}
        </p>
      ) : null}
    </div>
  );
}

/** Answers are JSON when they parse as JSON, else the text as typed. */
function parseAnswer(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

export function AnswerForm(props: {
  request: InputRequest;
  step: number;
  actions: ActionAvailability;
  busy: boolean;
  act: (request: ActionRequest) => void;
}) {
  const [text, setText] = useState("");
  const reason = unavailableReason(props.actions);
  const disabled = reason !== null || props.busy;
  const answer = (value: JsonValue) =>
    props.act({
      action: "answer",
      step: props.step,
      requestId: props.request.requestId,
      answer: value,
    });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    answer(parseAnswer(text));
  };
  return (
    <div className="answer" data-testid="answer-form">
      {props.request.options ? (
        <div className="answer-options">
          {props.request.options.map((option) => (
            <button
              key={JSON.stringify(option)}
              type="button"
              disabled={disabled}
              onClick={() => answer(option)}
            >
              {typeof option === "string" ? option : preview(option, 40)}
            </button>
          ))}
        </div>
      ) : null}
      <form onSubmit={submit} className="answer-free">
        <input
          aria-label="Answer"
          placeholder="Answer (JSON or text)"
          value={text}
          disabled={disabled}
          onChange={(event) => setText(event.target.value)}
        />
        <button type="submit" disabled={disabled || text === ""}>
          Answer
        </button>
      </form>
      {reason ? <p className="muted">{reason}</p> : null}
    </div>
  );
}
