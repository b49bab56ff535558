import type { RunMetadata } from "@wf/core";
import { type FormEvent, useCallback, useEffect, useRef, useState } from "react";
import type { BranchView, CancelResult, RunView, StepView } from "../src/api-types.ts";
import { getJson, runPath, workflowPath } from "./api.ts";
import { CancelRun } from "./cancel-run.tsx";
import { ErrorBox, formatTime, StatusBadge, useLoad } from "./common.tsx";
import { Link, navigate, paths } from "./router.tsx";
import { GraphLegend, RunGraph } from "./run-graph.tsx";
import { StateDiff } from "./state-diff.tsx";
import { StateTree } from "./state-tree.tsx";
import { StepFacts } from "./step-detail.tsx";
import { type ActionOutcome, AnswerForm, TimeTravel, useAction } from "./time-travel.tsx";
import { Timeline } from "./timeline.tsx";

function typingIn(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))
  );
}

export function RunPage({
  workflowId,
  runId,
  step,
}: {
  workflowId: string;
  runId: string;
  step: number | null;
}) {
  const view = useLoad(
    (signal) => getJson<RunView>(runPath(workflowId, runId), signal),
    [workflowId, runId],
  );
  if (view.state === "failed") return <ErrorBox error={view.error} />;
  if (view.state === "loading") return <p className="muted panel">Opening the run…</p>;
  return <RunLoaded view={view.value} step={step} />;
}

function RunLoaded({ view, step }: { view: RunView; step: number | null }) {
  const { workflowId, runId } = view.run;
  const [run, setRun] = useState<RunMetadata>(view.run);
  const [branches, setBranches] = useState<BranchView | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const selected = Math.min(step ?? run.headStep, run.headStep);
  const selectedRef = useRef(selected);
  selectedRef.current = selected;

  const select = (next: number, replace = true) => {
    const clamped = Math.max(0, Math.min(next, run.headStep));
    navigate(paths.run(workflowId, runId, clamped), { replace });
  };

  // The run grows live: the timeline, the head and the counts follow it.
  useEffect(() => {
    const source = new EventSource(
      `${workflowPath(workflowId)}/live?run=${encodeURIComponent(runId)}`,
    );
    source.addEventListener("run", (event) => {
      setRun(JSON.parse((event as MessageEvent<string>).data) as RunMetadata);
    });
    return () => source.close();
  }, [workflowId, runId]);

  // Which steps were superseded: read once the run is on screen (its rows have arrived), so the
  // scan of a long run never delays opening it, and again as the run grows.
  const [onScreen, setOnScreen] = useState(false);
  const onRows = useCallback(() => setOnScreen(true), []);
  // biome-ignore lint/correctness/useExhaustiveDependencies: read again when the head moves
  useEffect(() => {
    if (!onScreen) return;
    const controller = new AbortController();
    getJson<BranchView>(`${runPath(workflowId, runId)}/branches`, controller.signal).then(
      setBranches,
      () => {},
    );
    return () => controller.abort();
  }, [workflowId, runId, run.headStep, onScreen]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (typingIn(event.target) || event.altKey || event.ctrlKey || event.metaKey) return;
      if (event.key === "ArrowLeft") {
        event.preventDefault();
        select(selectedRef.current - 1);
      } else if (event.key === "ArrowRight") {
        event.preventDefault();
        select(selectedRef.current + 1);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  });

  const stepView = useLoad(
    (signal) =>
      // The run's view came with its head: no second request to open a run.
      selected === view.run.headStep && run.updatedAt === view.run.updatedAt
        ? Promise.resolve(view.headView)
        : getJson<StepView>(`${runPath(workflowId, runId)}/steps/${selected}`, signal),
    [workflowId, runId, selected, selected === run.headStep ? run.updatedAt : ""],
  );

  const onDone = ({ request, result }: ActionOutcome) => {
    if (request.action === "fork") {
      navigate(paths.run(workflowId, result.runId));
      return;
    }
    setRun((current) => ({
      ...current,
      headStep: Math.max(current.headStep, result.headStep),
      status: result.status,
    }));
    const appended = result.headStep - run.headStep;
    setMessage(
      appended > 0
        ? `Appended ${appended} step${appended === 1 ? "" : "s"} from #${request.step}; the run is ${result.status}, at step ${result.currentStep}.${result.stoppedAtLimit ? " Stopped after the most steps one action takes: press Run to go on." : ""}`
        : result.status === "cancelled"
          ? `Nothing runs from the cancel step #${request.step}: select the step before it to run on from there, or to fork from it.`
          : `Nothing to run from #${request.step}: the run is ${result.status}.`,
    );
    navigate(paths.run(workflowId, runId, result.currentStep));
  };
  const { busy, error, act } = useAction(workflowId, runId, onDone);

  const onCancelled = (result: CancelResult) => {
    setRun((current) => ({
      ...current,
      headStep: Math.max(current.headStep, result.headStep),
      status: result.status,
    }));
    setMessage(`Cancelled the run at step ${result.headStep}.`);
    navigate(paths.run(workflowId, runId, result.headStep));
  };

  const [other, setOther] = useState("");
  const onCompare = (event: FormEvent) => {
    event.preventDefault();
    const id = other.trim();
    if (/^[A-Za-z0-9_.-]{1,128}$/.test(id))
      navigate(paths.compare(workflowId, runId, id, selected, null));
  };
  const [jump, setJump] = useState("");
  const onJump = (event: FormEvent) => {
    event.preventDefault();
    if (/^\d+$/.test(jump)) select(Number(jump), false);
    setJump("");
  };

  const record =
    stepView.state === "ready" && stepView.value.record.step === selected
      ? stepView.value.record
      : null;
  const forkedFrom = run.forkedFrom;

  return (
    <div className="run-page">
      <section className="run-head panel">
        <div className="run-title">
          <h1 className="mono">{runId}</h1>
          <StatusBadge status={run.status} />
          <span className="muted">head #{run.headStep}</span>
          <span className="muted">created {formatTime(run.createdAt)}</span>
          <span className="muted">updated {formatTime(run.updatedAt)}</span>
          <CancelRun
            workflowId={workflowId}
            runId={runId}
            status={run.status}
            headStep={run.headStep}
            onCancelled={onCancelled}
          />
        </div>
        <div className="run-lineage">
          {forkedFrom ? (
            <>
              <span>
                Forked from{" "}
                <Link to={paths.run(workflowId, forkedFrom.runId, forkedFrom.step)}>
                  {forkedFrom.runId}
                </Link>{" "}
                at step {forkedFrom.step}
              </span>
              <Link
                className="button"
                to={paths.compare(
                  workflowId,
                  forkedFrom.runId,
                  runId,
                  forkedFrom.step,
                  forkedFrom.step,
                )}
              >
                Compare with source
              </Link>
            </>
          ) : null}
          {view.lineage
            .filter((origin) => origin.missing)
            .map((origin) => (
              <span key={origin.runId} className="notice error">
                Source run {origin.runId} was deleted: steps below {origin.step} cannot be read.
              </span>
            ))}
        </div>
        <div className="run-nav">
          <button
            type="button"
            onClick={() => select(selected - 1)}
            disabled={selected === 0}
            title="Previous step (←)"
          >
            ← Prev
          </button>
          <span className="step-indicator" data-testid="selected-step">
            step {selected} / {run.headStep}
          </span>
          <button
            type="button"
            onClick={() => select(selected + 1)}
            disabled={selected >= run.headStep}
            title="Next step (→)"
          >
            Next →
          </button>
          <form onSubmit={onJump} className="jump">
            <input
              aria-label="Jump to step"
              placeholder="step #"
              inputMode="numeric"
              value={jump}
              onChange={(event) => setJump(event.target.value)}
            />
            <button type="submit">Go</button>
          </form>
          <form onSubmit={onCompare} className="jump compare-with">
            <input
              aria-label="Compare with run"
              placeholder="compare with run id…"
              value={other}
              onChange={(event) => setOther(event.target.value)}
            />
            <button type="submit" disabled={other.trim() === ""}>
              Compare
            </button>
          </form>
        </div>
        <TimeTravel
          step={selected}
          cancelStep={record?.status === "cancelled"}
          actions={view.actions}
          busy={busy}
          error={error}
          message={message}
          act={act}
        />
      </section>
      <div className="run-body">
        <Timeline
          workflowId={workflowId}
          runId={runId}
          headStep={run.headStep}
          forkPoint={forkedFrom}
          branches={branches}
          selected={selected}
          onSelect={(next) => select(next, false)}
          onRows={onRows}
        />
        <div className="run-main">
          <div className="panel graph-panel">
            <div className="graph-title">
              <h2>Graph at step {selected}</h2>
              <GraphLegend />
            </div>
            <RunGraph
              definition={run.definition}
              nodeStatuses={record?.nodeStatuses ?? null}
              nextNodeId={record?.nextNodeId ?? null}
              previousNodeId={record?.previousNodeId ?? null}
              cancelled={record?.status === "cancelled"}
            />
          </div>
          {stepView.state === "failed" ? <ErrorBox error={stepView.error} /> : null}
          {record && stepView.state === "ready" ? (
            <div className="step-panels">
              <div className="panel">
                <h2>State at step {selected}</h2>
                <StateTree key={`${runId}/${selected}`} value={record.shared} />
              </div>
              <div className="panel">
                <h2>
                  Changes{" "}
                  {stepView.value.previousStep === null
                    ? "from the initial state"
                    : `from step ${stepView.value.previousStep}`}
                </h2>
                <StateDiff changes={stepView.value.changes} />
              </div>
              <div className="panel">
                <h2>Step</h2>
                <StepFacts
                  record={record}
                  answerForm={
                    record.awaitingInput ? (
                      <AnswerForm
                        request={record.awaitingInput}
                        step={selected}
                        actions={view.actions}
                        busy={busy !== null}
                        act={act}
                      />
                    ) : null
                  }
                />
              </div>
            </div>
          ) : (
            <p className="muted">Loading step {selected}…</p>
          )}
        </div>
      </div>
    </div>
  );
}
