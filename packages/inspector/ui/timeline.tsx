/**
 * The steps of a run in append order, virtualised: only the rows in view are
 * rendered, and they are read from the server in blocks, so a run of 100,000
 * steps opens as fast as one of ten.
 */
import { useVirtualizer } from "@tanstack/react-virtual";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { BranchView, StepRange, TimelineRow } from "../src/api-types.ts";
import { getJson, runPath } from "./api.ts";
import { StatusBadge, shortTime } from "./common.tsx";

const BLOCK = 50;
const ROW_HEIGHT = 34;

export interface TimelineProps {
  workflowId: string;
  runId: string;
  headStep: number;
  forkPoint: { runId: string; step: number } | null;
  branches: BranchView | null;
  selected: number;
  onSelect: (step: number) => void;
  /** Called when rows arrive, so slower reads (the branch scan) can wait until the run is on screen. */
  onRows?: () => void;
  /** Scroll position shared with another timeline (compare view). */
  scrollTop?: number;
  onScroll?: (top: number) => void;
  label?: string;
}

/** Reads the timeline in blocks of rows and keeps them; a block past the head is read again as the run grows. */
function useRows(workflowId: string, runId: string, headStep: number, onRows?: () => void) {
  const blocks = useRef(new Map<number, { through: number; rows: Map<number, TimelineRow> }>());
  const pending = useRef(new Set<number>());
  const [, setVersion] = useState(0);

  const ensure = useCallback(
    (first: number, last: number) => {
      for (let block = Math.floor(first / BLOCK); block <= Math.floor(last / BLOCK); block++) {
        const known = blocks.current.get(block);
        const end = Math.min(block * BLOCK + BLOCK - 1, headStep);
        if ((known && known.through >= end) || pending.current.has(block)) continue;
        pending.current.add(block);
        getJson<StepRange>(`${runPath(workflowId, runId)}/steps?from=${block * BLOCK}&to=${end}`)
          .then((range) => {
            const rows = new Map(range.rows.map((row) => [row.step, row]));
            blocks.current.set(block, { through: end, rows });
            setVersion((value) => value + 1);
            onRows?.();
          })
          .catch(() => {})
          .finally(() => pending.current.delete(block));
      }
    },
    [workflowId, runId, headStep, onRows],
  );
  const row = (step: number) => blocks.current.get(Math.floor(step / BLOCK))?.rows.get(step);
  return { ensure, row };
}

function onTimeline(branches: BranchView | null, step: number): boolean | null {
  if (!branches || step > branches.headStep) return null;
  return branches.onTimeline.some(([from, to]) => step >= from && step <= to);
}

export function Timeline(props: TimelineProps) {
  const { workflowId, runId, headStep, branches, selected, onSelect } = props;
  const parent = useRef<HTMLDivElement | null>(null);
  // The list opens scrolled to the selected step (usually the head) before the virtualizer reads
  // its position, so no rows are read from the top for nothing.
  const initialTop = useRef(Math.max(0, props.selected * ROW_HEIGHT - ROW_HEIGHT * 8));
  const attached = useRef(false);
  const attach = useCallback((element: HTMLDivElement | null) => {
    parent.current = element;
    if (element && !attached.current) {
      attached.current = true;
      element.scrollTop = initialTop.current;
    }
  }, []);
  const { ensure, row } = useRows(workflowId, runId, headStep, props.onRows);
  const virtualizer = useVirtualizer({
    count: headStep + 1,
    getScrollElement: () => parent.current,
    estimateSize: () => ROW_HEIGHT,
    initialOffset: () => initialTop.current,
    overscan: 12,
  });
  const items = virtualizer.getVirtualItems();
  const first = items[0]?.index ?? 0;
  const last = items.at(-1)?.index ?? 0;
  const sized = items.length > 0;
  useEffect(() => {
    // Before the list is measured it has no rows in view: read nothing yet.
    if (sized) ensure(first, last);
  }, [ensure, first, last, sized]);

  // Keep the selected step in view (keyboard, jumps, deep links).
  useEffect(() => {
    virtualizer.scrollToIndex(selected, { align: "auto" });
  }, [selected, virtualizer]);

  useEffect(() => {
    if (
      props.scrollTop !== undefined &&
      parent.current &&
      parent.current.scrollTop !== props.scrollTop
    ) {
      parent.current.scrollTop = props.scrollTop;
    }
  }, [props.scrollTop]);

  const forksAt = useMemo(() => {
    const map = new Map<number, string[]>();
    for (const fork of branches?.forks ?? [])
      map.set(fork.step, [...(map.get(fork.step) ?? []), fork.runId]);
    return map;
  }, [branches]);

  return (
    <div className="timeline">
      <div className="timeline-head">
        <span className="timeline-label">{props.label ?? "Timeline"}</span>
        <span className="muted">{(headStep + 1).toLocaleString()} steps</span>
      </div>
      <div
        ref={attach}
        className="timeline-scroll"
        data-testid={`timeline-${runId}`}
        onScroll={(event) => props.onScroll?.(event.currentTarget.scrollTop)}
      >
        <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
          {items.map((item) => {
            const step = item.index;
            const data = row(step);
            const live = onTimeline(branches, step);
            const branchStart =
              data && "parent" in data && data.parent !== null && data.parent !== step - 1;
            const inherited = data && "ownerRunId" in data && data.ownerRunId !== runId;
            const cancel = data && "status" in data && data.status === "cancelled";
            const classes = [
              "step-row",
              cancel ? "cancel-step" : "",
              step === selected ? "selected" : "",
              live === false ? "superseded" : "",
              inherited ? "inherited" : "",
            ].join(" ");
            return (
              <button
                type="button"
                key={item.key}
                className={classes}
                data-step={step}
                data-superseded={live === false ? "true" : undefined}
                data-cancelled={cancel ? "true" : undefined}
                style={{ transform: `translateY(${item.start}px)`, height: ROW_HEIGHT }}
                onClick={() => onSelect(step)}
              >
                <span className="step-no">#{step}</span>
                {!data ? (
                  <span className="muted">…</span>
                ) : "missing" in data ? (
                  <span className="muted" title={data.missing}>
                    unreadable
                  </span>
                ) : (
                  <>
                    <span className="step-node">
                      {data.previousNodeId ?? (data.status === "cancelled" ? "cancel" : "start")}
                    </span>
                    {data.status === "cancelled" ? (
                      <span
                        className="tag cancel-tag"
                        title={`Cancelled: ${data.errorMessage ?? ""}`}
                        data-testid="cancel-tag"
                      >
                        ✕ {data.errorMessage ?? "cancelled"}
                      </span>
                    ) : null}
                    {branchStart ? (
                      <span className="tag branch" title={`Resumed from step ${data.parent}`}>
                        ↳ from #{data.parent}
                      </span>
                    ) : null}
                    {props.forkPoint && step === props.forkPoint.step ? (
                      <span
                        className="tag fork"
                        title={`Forked from ${props.forkPoint.runId} at step ${step}`}
                      >
                        fork point
                      </span>
                    ) : null}
                    {forksAt.has(step) ? (
                      <span className="tag fork" title={(forksAt.get(step) ?? []).join(", ")}>
                        {forksAt.get(step)?.length} fork{forksAt.get(step)?.length === 1 ? "" : "s"}
                      </span>
                    ) : null}
                    {live === false ? <span className="tag superseded-tag">superseded</span> : null}
                    <span className="spacer" />
                    <StatusBadge status={data.status} />
                    <span className="step-time">{shortTime(data.createdAt)}</span>
                  </>
                )}
              </button>
            );
          })}
        </div>
      </div>
    </div>
  );
}
