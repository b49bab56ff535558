/** Talks to the inspector's server. Writes carry the token the server put in the page. */
import type {
  ActionRequest,
  ActionResult,
  ApiError,
  CancelRequest,
  CancelResult,
} from "../src/api-types.ts";

const tokenMeta = document.querySelector('meta[name="wf-token"]');
/** The token, present only when the page was opened with it (the address the inspector printed). */
export const token: string | null = tokenMeta?.getAttribute("content") ?? null;

// Keep the token out of the address bar, the history and links people copy.
{
  const url = new URL(window.location.href);
  if (url.searchParams.has("token")) {
    url.searchParams.delete("token");
    window.history.replaceState(null, "", url.pathname + url.search + url.hash);
  }
}

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiFailure";
  }
}

async function failure(response: Response): Promise<ApiFailure> {
  try {
    const body = (await response.json()) as ApiError;
    return new ApiFailure(response.status, body.error.code, body.error.message);
  } catch {
    return new ApiFailure(response.status, "HTTP", `${response.status} ${response.statusText}`);
  }
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const response = await fetch(path, { signal: signal ?? null, credentials: "same-origin" });
  if (!response.ok) throw await failure(response);
  return (await response.json()) as T;
}

export async function postAction(
  workflowId: string,
  runId: string,
  request: ActionRequest,
): Promise<ActionResult> {
  const response = await fetch(`${runPath(workflowId, runId)}/actions`, {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json", "x-wf-token": token ?? "" },
    body: JSON.stringify(request),
  });
  if (!response.ok) throw await failure(response);
  return (await response.json()) as ActionResult;
}

/** Cancels a run (no definition needed); a run that had ended answers 409 NOT_CANCELLABLE. */
export async function postCancel(
  workflowId: string,
  runId: string,
  request: CancelRequest,
): Promise<CancelResult> {
  const response = await fetch(`${runPath(workflowId, runId)}/cancel`, {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json", "x-wf-token": token ?? "" },
    body: JSON.stringify(request),
  });
  if (!response.ok) throw await failure(response);
  return (await response.json()) as CancelResult;
}

export function workflowPath(workflowId: string): string {
  return `/api/workflows/${encodeURIComponent(workflowId)}`;
}

export function runPath(workflowId: string, runId: string): string {
  return `${workflowPath(workflowId)}/runs/${encodeURIComponent(runId)}`;
}
