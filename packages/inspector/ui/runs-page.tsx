import type { RunStatus } from "@wf/core";
import { type FormEvent, useEffect, useState } from "react";
import type { RunsView, StatusCounts } from "../src/api-types.ts";
import { getJson, workflowPath } from "./api.ts";
import { ErrorBox, formatTime, STATUS_LABELS, StatusBadge, useLoad } from "./common.tsx";
import { Link, paths } from "./router.tsx";

const STATUSES: RunStatus[] = ["running", "waiting_for_input", "completed", "failed", "cancelled"];
const PAGE_SIZE = 50;

export function RunsPage({ workflowId }: { workflowId: string }) {
  const [status, setStatus] = useState<RunStatus | null>(null);
  const [query, setQuery] = useState("");
  const [typed, setTyped] = useState("");
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [counts, setCounts] = useState<StatusCounts | null>(null);
  const [version, setVersion] = useState(0);
  const cursor = cursors.at(-1) ?? null;

  const runs = useLoad(
    (signal) => {
      const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
      if (status) params.set("status", status);
      if (cursor) params.set("cursor", cursor);
      if (query) params.set("q", query);
      return getJson<RunsView>(`${workflowPath(workflowId)}/runs?${params}`, signal);
    },
    [workflowId, status, cursor, query, version],
  );

  // Counts and the first page follow the store live.
  useEffect(() => {
    getJson<StatusCounts>(`${workflowPath(workflowId)}/counts`).then(setCounts, () => {});
    const source = new EventSource(`${workflowPath(workflowId)}/live`);
    source.addEventListener("runs", (event) => {
      setCounts(JSON.parse((event as MessageEvent<string>).data) as StatusCounts);
      setVersion((value) => value + 1);
    });
    return () => source.close();
  }, [workflowId]);

  const choose = (next: RunStatus | null) => {
    setStatus(next);
    setCursors([null]);
  };
  const search = (event: FormEvent) => {
    event.preventDefault();
    setQuery(typed.trim());
    setCursors([null]);
  };

  return (
    <section className="panel">
      <div className="panel-head">
        <h1>{workflowId}</h1>
        <form className="search" onSubmit={search}>
          <input
            type="search"
            placeholder="Search run id…"
            aria-label="Search run id"
            value={typed}
            onChange={(event) => setTyped(event.target.value)}
          />
          <button type="submit">Search</button>
        </form>
      </div>
      <div className="chips">
        <button
          type="button"
          className={`chip ${status === null ? "active" : ""}`}
          onClick={() => choose(null)}
        >
          all{" "}
          <span className="count" data-testid="count-all">
            {counts ? counts.total : "…"}
          </span>
        </button>
        {STATUSES.map((value) => (
          <button
            key={value}
            type="button"
            className={`chip chip-${value} ${status === value ? "active" : ""}`}
            onClick={() => choose(value)}
          >
            {STATUS_LABELS[value]}{" "}
            <span className="count" data-testid={`count-${value}`}>
              {counts ? counts.byStatus[value] : "…"}
            </span>
          </button>
        ))}
        {counts && !counts.complete ? (
          <span className="muted">(counted the newest {counts.total})</span>
        ) : null}
      </div>
      {runs.state === "failed" ? <ErrorBox error={runs.error} /> : null}
      {runs.state === "loading" ? <p className="muted">Loading…</p> : null}
      {runs.state === "ready" ? (
        <>
          {runs.value.search ? (
            <p className="muted">
              Runs whose id contains “{runs.value.search.query}”
              {runs.value.search.complete ? "" : ` among the newest ${runs.value.search.scanned}`}.{" "}
              <button
                type="button"
                className="linkish"
                onClick={() => {
                  setTyped("");
                  setQuery("");
                }}
              >
                Clear
              </button>
            </p>
          ) : null}
          <table className="runs">
            <thead>
              <tr>
                <th>Run</th>
                <th>Status</th>
                <th className="num">Head step</th>
                <th>Created</th>
                <th>Updated</th>
                <th>Forked from</th>
              </tr>
            </thead>
            <tbody>
              {runs.value.items.map((run) => (
                <tr key={run.runId} data-run={run.runId}>
                  <td className="mono">
                    <Link to={paths.run(workflowId, run.runId)}>{run.runId}</Link>
                  </td>
                  <td>
                    <StatusBadge status={run.status} />
                  </td>
                  <td className="num">{run.headStep}</td>
                  <td>{formatTime(run.createdAt)}</td>
                  <td>{formatTime(run.updatedAt)}</td>
                  <td className="mono">
                    {run.forkedFrom ? (
                      <Link to={paths.run(workflowId, run.forkedFrom.runId, run.forkedFrom.step)}>
                        {run.forkedFrom.runId} @ {run.forkedFrom.step}
                      </Link>
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {runs.value.items.length === 0 ? <p className="muted">No runs match.</p> : null}
          {runs.value.damaged.map((damaged) => (
            <div key={damaged.runId} className="notice error">
              Run {damaged.runId} could not be read: {damaged.reason}
            </div>
          ))}
          {runs.value.search ? null : (
            <div className="pager">
              <button
                type="button"
                disabled={cursors.length < 2}
                onClick={() => setCursors(cursors.slice(0, -1))}
              >
                ← Newer
              </button>
              <span className="muted">page {cursors.length}</span>
              <button
                type="button"
                disabled={!runs.value.nextCursor}
                onClick={() => setCursors([...cursors, runs.value.nextCursor])}
              >
                Older →
              </button>
            </div>
          )}
        </>
      ) : null}
    </section>
  );
}
