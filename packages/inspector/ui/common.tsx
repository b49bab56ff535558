/** Small pieces every view uses. */

import type { RunStatus } from "@wf/core";
import { type DependencyList, useEffect, useState } from "react";
import { ApiFailure } from "./api.ts";

export const STATUS_LABELS: Record<RunStatus, string> = {
  running: "running",
  waiting_for_input: "waiting",
  completed: "completed",
  failed: "failed",
  cancelled: "cancelled",
};

export function StatusBadge({ status }: { status: RunStatus }) {
  return <span className={`badge status-${status}`}>{STATUS_LABELS[status]}</span>;
}

export function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

export function shortTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleTimeString();
}

/** JSON for display: compact, cut when long (the full value is in the state tree). */
export function preview(value: unknown, max = 120): string {
  const text = value === undefined ? "undefined" : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export function pathText(path: (string | number)[]): string {
  if (path.length === 0) return "(root)";
  return path
    .map((part, index) =>
      typeof part === "number"
        ? `[${part}]`
        : /^[A-Za-z_$][\w$]*$/.test(part)
          ? `${index ? "." : ""}${part}`
          : `[${JSON.stringify(part)}]`,
    )
    .join("");
}

export type Loaded<T> =
  | { state: "loading" }
  | { state: "ready"; value: T }
  | { state: "failed"; error: Error };

/** Loads `load()` whenever `deps` change; the previous request is aborted. */
export function useLoad<T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: DependencyList,
): Loaded<T> {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: "loading" });
  useEffect(() => {
    const controller = new AbortController();
    setLoaded((previous) => (previous.state === "ready" ? previous : { state: "loading" }));
    load(controller.signal).then(
      (value) => {
        if (!controller.signal.aborted) setLoaded({ state: "ready", value });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) {
          setLoaded({
            state: "failed",
            error: error instanceof Error ? error : new Error(String(error)),
          });
        }
      },
    );
    return () => controller.abort();
    // biome-ignore lint/correctness/useExhaustiveDependencies: the caller names the dependencies
  }, deps);
  return loaded;
}

export function ErrorBox({ error }: { error: Error }) {
  const refused =
    error instanceof ApiFailure && ["INCOMPATIBLE_STATE", "NOT_CANCELLABLE"].includes(error.code);
  return (
    <div className={refused ? "notice refused" : "notice error"} role="alert">
      {refused ? <strong>Refused. </strong> : null}
      {error.message}
    </div>
  );
}
