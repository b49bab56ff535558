import type { Page } from "@wf/core";
import { useState } from "react";
import { getJson } from "./api.ts";
import { ErrorBox, useLoad } from "./common.tsx";
import { Link, paths } from "./router.tsx";

export function WorkflowsPage() {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors.at(-1) ?? null;
  const loaded = useLoad(
    (signal) =>
      getJson<Page<string>>(
        `/api/workflows${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ""}`,
        signal,
      ),
    [cursor],
  );
  return (
    <section className="panel page-narrow">
      <h1>Workflows</h1>
      {loaded.state === "failed" ? <ErrorBox error={loaded.error} /> : null}
      {loaded.state === "loading" ? <p className="muted">Loading…</p> : null}
      {loaded.state === "ready" ? (
        <>
          {loaded.value.items.length === 0 ? (
            <p className="muted">This store holds no runs yet.</p>
          ) : null}
          <ul className="workflow-list">
            {loaded.value.items.map((workflowId) => (
              <li key={workflowId}>
                <Link to={paths.workflow(workflowId)}>{workflowId}</Link>
              </li>
            ))}
          </ul>
          <div className="pager">
            <button
              type="button"
              disabled={cursors.length < 2}
              onClick={() => setCursors(cursors.slice(0, -1))}
            >
              ← Previous
            </button>
            <button
              type="button"
              disabled={!loaded.value.nextCursor}
              onClick={() => setCursors([...cursors, loaded.value.nextCursor])}
            >
              Next →
            </button>
          </div>
        </>
      ) : null}
    </section>
  );
}
