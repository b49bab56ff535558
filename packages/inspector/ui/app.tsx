import { token } from "./api.ts";
import { ComparePage } from "./compare-page.tsx";
import { Link, paths, useRoute } from "./router.tsx";
import { RunPage } from "./run-page.tsx";
import { RunsPage } from "./runs-page.tsx";
import { WorkflowsPage } from "./workflows-page.tsx";

export function App() {
  const route = useRoute();
  return (
    <div className="app">
      <header className="topbar">
        <Link to="/" className="brand">
          <span className="logo" aria-hidden="true" />
          wf inspector
        </Link>
        <nav className="crumbs" aria-label="Breadcrumbs">
          {route.page !== "workflows" && route.page !== "notFound" ? (
            <>
              <span className="sep">/</span>
              <Link to={paths.workflow(route.workflowId)}>{route.workflowId}</Link>
            </>
          ) : null}
          {route.page === "run" ? (
            <>
              <span className="sep">/</span>
              <Link to={paths.run(route.workflowId, route.runId)}>{route.runId}</Link>
              {route.step !== null ? (
                <>
                  <span className="sep">/</span>
                  <span>step {route.step}</span>
                </>
              ) : null}
            </>
          ) : null}
          {route.page === "compare" ? (
            <>
              <span className="sep">/</span>
              <span>compare</span>
            </>
          ) : null}
        </nav>
        {token ? null : (
          <span
            className="readonly"
            title="Open the address the inspector printed (it carries the token) to act on runs."
          >
            read-only
          </span>
        )}
      </header>
      <main>
        {route.page === "workflows" ? <WorkflowsPage /> : null}
        {route.page === "runs" ? (
          <RunsPage key={route.workflowId} workflowId={route.workflowId} />
        ) : null}
        {route.page === "run" ? (
          <RunPage
            key={`${route.workflowId}/${route.runId}`}
            workflowId={route.workflowId}
            runId={route.runId}
            step={route.step}
          />
        ) : null}
        {route.page === "compare" ? <ComparePage route={route} /> : null}
        {route.page === "notFound" ? (
          <div className="notice error">
            Nothing at {route.path}. <Link to="/">Back to the workflows</Link>
          </div>
        ) : null}
      </main>
    </div>
  );
}
