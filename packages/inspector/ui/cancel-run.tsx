/**
 * Cancel a run that has not ended. The server appends a `cancelled` step on
 * the head through `cancelRun`, so no definition is needed; the page still
 * asks first (in the page, not a browser dialog) and takes a reason, which
 * the journal keeps.
 */
import type { RunStatus } from "@wf/core";
import { type FormEvent, useState } from "react";
import type { CancelResult } from "../src/api-types.ts";
import { postCancel, token } from "./api.ts";
import { ErrorBox } from "./common.tsx";

/** Statuses a cancel is refused from: the run has ended. */
const ENDED: readonly RunStatus[] = ["completed", "cancelled"];

export function CancelRun(props: {
  workflowId: string;
  runId: string;
  status: RunStatus;
  headStep: number;
  onCancelled: (result: CancelResult) => void;
}) {
  const [asking, setAsking] = useState(false);
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  if (ENDED.includes(props.status)) return null;

  const confirm = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const result = await postCancel(props.workflowId, props.runId, { reason: reason.trim() });
      setAsking(false);
      setReason("");
      props.onCancelled(result);
    } catch (caught) {
      setError(caught instanceof Error ? caught : new Error(String(caught)));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="cancel-run" data-testid="cancel-run">
      {asking ? (
        <form className="cancel-confirm" onSubmit={confirm} data-testid="cancel-confirm">
          <span>
            Cancel run <strong className="mono">{props.runId}</strong> at step {props.headStep}? A
            cancelled step is appended; the journal keeps everything before it.
          </span>
          <input
            aria-label="Reason for cancelling"
            placeholder="Reason (kept in the journal)"
            maxLength={1000}
            value={reason}
            disabled={busy}
            onChange={(event) => setReason(event.target.value)}
          />
          <button type="submit" className="danger" disabled={busy}>
            {busy ? "Cancelling…" : "Cancel the run"}
          </button>
          <button type="button" disabled={busy} onClick={() => setAsking(false)}>
            Keep it
          </button>
        </form>
      ) : (
        <button
          type="button"
          disabled={!token}
          title={
            token
              ? "Append a cancelled step: the run stops where it is"
              : "Open the address the inspector printed (it carries the token) to cancel runs."
          }
          onClick={() => {
            setError(null);
            setAsking(true);
          }}
        >
          Cancel run…
        </button>
      )}
      {error ? <ErrorBox error={error} /> : null}
    </div>
  );
}
