/** Every workflow, run, step and comparison has its own address (a deep link). */
import { type MouseEvent, type ReactNode, useEffect, useState } from "react";

export type Route =
  | { page: "workflows" }
  | { page: "runs"; workflowId: string }
  | { page: "run"; workflowId: string; runId: string; step: number | null }
  | {
      page: "compare";
      workflowId: string;
      a: string;
      b: string;
      sa: number | null;
      sb: number | null;
    }
  | { page: "notFound"; path: string };

const ID = "([A-Za-z0-9_.-]{1,128})";

function stepOf(value: string | null | undefined): number | null {
  return value && /^\d+$/.test(value) ? Number(value) : null;
}

export function parseRoute(pathname: string, search: string): Route {
  const query = new URLSearchParams(search);
  let match = new RegExp(`^/w/${ID}/r/${ID}(?:/s/(\\d+))?/?$`).exec(pathname);
  if (match) {
    return {
      page: "run",
      workflowId: match[1] as string,
      runId: match[2] as string,
      step: stepOf(match[3]),
    };
  }
  match = new RegExp(`^/w/${ID}/compare/${ID}/${ID}/?$`).exec(pathname);
  if (match) {
    return {
      page: "compare",
      workflowId: match[1] as string,
      a: match[2] as string,
      b: match[3] as string,
      sa: stepOf(query.get("sa")),
      sb: stepOf(query.get("sb")),
    };
  }
  match = new RegExp(`^/w/${ID}/?$`).exec(pathname);
  if (match) return { page: "runs", workflowId: match[1] as string };
  if (pathname === "/" || pathname === "") return { page: "workflows" };
  return { page: "notFound", path: pathname };
}

export const paths = {
  workflow: (workflowId: string) => `/w/${workflowId}`,
  run: (workflowId: string, runId: string, step?: number | null) =>
    `/w/${workflowId}/r/${runId}${step === undefined || step === null ? "" : `/s/${step}`}`,
  compare: (workflowId: string, a: string, b: string, sa?: number | null, sb?: number | null) => {
    const query = new URLSearchParams();
    if (sa !== undefined && sa !== null) query.set("sa", String(sa));
    if (sb !== undefined && sb !== null) query.set("sb", String(sb));
    const search = query.toString();
    return `/w/${workflowId}/compare/${a}/${b}${search ? `?${search}` : ""}`;
  },
};

const listeners = new Set<() => void>();

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === window.location.pathname + window.location.search) return;
  if (options.replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  for (const listener of listeners) listener();
}

const read = () => parseRoute(window.location.pathname, window.location.search);

export function useRoute(): Route {
  const [route, setRoute] = useState<Route>(read);
  useEffect(() => {
    const update = () => setRoute(read());
    listeners.add(update);
    window.addEventListener("popstate", update);
    return () => {
      listeners.delete(update);
      window.removeEventListener("popstate", update);
    };
  }, []);
  return route;
}

export function Link(props: {
  to: string;
  children: ReactNode;
  className?: string;
  title?: string;
}) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey)
      return;
    event.preventDefault();
    navigate(props.to);
  };
  return (
    <a href={props.to} onClick={onClick} className={props.className} title={props.title}>
      {props.children}
    </a>
  );
}
