/**
 * Two runs side by side, typically a fork and its source. Step numbers are
 * shared by a fork and its source, so rows line up at the fork point and the
 * two timelines scroll together; the diff is between the two selected steps.
 */
import { useState } from "react";
import type { BranchView, DiffView, RunView } from "../src/api-types.ts";
import { getJson, runPath, workflowPath } from "./api.ts";
import { ErrorBox, StatusBadge, useLoad } from "./common.tsx";
import { Link, navigate, paths, type Route } from "./router.tsx";
import { StateDiff } from "./state-diff.tsx";
import { Timeline } from "./timeline.tsx";

type CompareRoute = Extract<Route, { page: "compare" }>;

export function ComparePage({ route }: { route: CompareRoute }) {
  const { workflowId, a, b } = route;
  const views = useLoad(
    (signal) =>
      Promise.all([a, b].map((runId) => getJson<RunView>(runPath(workflowId, runId), signal))),
    [workflowId, a, b],
  );
  const branches = useLoad(
    (signal) =>
      Promise.all(
        [a, b].map((runId) =>
          getJson<BranchView>(`${runPath(workflowId, runId)}/branches`, signal),
        ),
      ),
    [workflowId, a, b],
  );
  const [scrollTop, setScrollTop] = useState<number | undefined>(undefined);
  if (views.state === "failed") return <ErrorBox error={views.error} />;
  if (views.state === "loading") return <p className="muted panel">Opening both runs…</p>;
  const [left, right] = views.value as [RunView, RunView];
  const forkPoint =
    right.run.forkedFrom?.runId === a
      ? right.run.forkedFrom.step
      : left.run.forkedFrom?.runId === b
        ? left.run.forkedFrom.step
        : null;
  const sa = Math.min(route.sa ?? forkPoint ?? left.run.headStep, left.run.headStep);
  const sb = Math.min(route.sb ?? forkPoint ?? right.run.headStep, right.run.headStep);
  const choose = (side: "a" | "b", step: number) =>
    navigate(paths.compare(workflowId, a, b, side === "a" ? step : sa, side === "b" ? step : sb), {
      replace: true,
    });
  const [leftBranches, rightBranches] = branches.state === "ready" ? branches.value : [null, null];

  return (
    <div className="compare-page">
      <section className="panel">
        <h1>Compare</h1>
        <p>
          <Link to={paths.run(workflowId, a)}>{a}</Link> <StatusBadge status={left.run.status} />{" "}
          with <Link to={paths.run(workflowId, b)}>{b}</Link>{" "}
          <StatusBadge status={right.run.status} />
          {forkPoint !== null ? (
            <span className="tag fork"> fork point: step {forkPoint}</span>
          ) : null}
        </p>
      </section>
      <div className="compare-body">
        <Timeline
          label={`A · ${a}`}
          workflowId={workflowId}
          runId={a}
          headStep={left.run.headStep}
          forkPoint={left.run.forkedFrom}
          branches={leftBranches ?? null}
          selected={sa}
          onSelect={(step) => choose("a", step)}
          scrollTop={scrollTop}
          onScroll={setScrollTop}
        />
        <Timeline
          label={`B · ${b}`}
          workflowId={workflowId}
          runId={b}
          headStep={right.run.headStep}
          forkPoint={right.run.forkedFrom}
          branches={rightBranches ?? null}
          selected={sb}
          onSelect={(step) => choose("b", step)}
          scrollTop={scrollTop}
          onScroll={setScrollTop}
        />
        <CompareDiff workflowId={workflowId} a={a} b={b} sa={sa} sb={sb} />
      </div>
    </div>
  );
}

function CompareDiff(props: { workflowId: string; a: string; b: string; sa: number; sb: number }) {
  const { workflowId, a, b, sa, sb } = props;
  const diff = useLoad(
    (signal) =>
      getJson<DiffView>(`${workflowPath(workflowId)}/diff?a=${a}:${sa}&b=${b}:${sb}`, signal),
    [workflowId, a, b, sa, sb],
  );
  return (
    <div className="panel compare-diff" data-testid="compare-diff">
      <h2>
        State diff: A #{sa} → B #{sb}
      </h2>
      {diff.state === "failed" ? <ErrorBox error={diff.error} /> : null}
      {diff.state === "ready" ? (
        <StateDiff changes={diff.value.changes} />
      ) : (
        <p className="muted">Loading…</p>
      )}
    </div>
  );
}
