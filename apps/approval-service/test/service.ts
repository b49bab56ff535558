/**
 * The built service (`dist/main.js`) as a child process, as `npm start`
 * runs it, with its HTTP API driven by fetch.
 */
import { ChildFixture } from "@wf/test-services";

export interface Service {
  readonly url: string;
  readonly fixture: ChildFixture;
  /** Worker process ids, as main printed them. */
  readonly workerPids: number[];
  /** SIGTERM to main, which closes its server and its workers; resolves once it exited. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const MAIN = new URL("../dist/main.js", import.meta.url).pathname;

/** The first line matching `pattern` once printed; fails if the process exits first. */
export async function waitForLine(
  fixture: ChildFixture,
  pattern: RegExp,
  timeoutMs = 60_000,
): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  let checked = 0;
  for (;;) {
    while (checked < fixture.lines.length) {
      const match = fixture.lines[checked++]?.match(pattern);
      if (match) return match;
    }
    await fixture.waitForLines(checked + 1, Math.max(1, deadline - Date.now()));
  }
}

/** SIGTERM, then SIGKILL if it has not exited within a minute; resolves to how it exited. */
async function stopProcess(
  fixture: ChildFixture,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (fixture.child.exitCode === null && fixture.child.signalCode === null) {
    fixture.child.kill("SIGTERM");
  }
  const timer = setTimeout(() => fixture.child.kill("SIGKILL"), 60_000);
  const exit = await fixture.exited;
  clearTimeout(timer);
  return exit;
}

export async function startService(args: readonly string[]): Promise<Service> {
  const fixture = new ChildFixture(MAIN, ["--port", "0", "--host", "127.0.0.1", ...args]);
  try {
    await waitForLine(fixture, /^approval-service: ready$/);
  } catch (error) {
    // SIGTERM first: main then stops the workers it forked, which a SIGKILL would leave running.
    await stopProcess(fixture);
    throw error;
  }
  const [, url = ""] = fixture.lines.join("\n").match(/listening on (http:\/\/\S+)/) ?? [];
  const [, pids = ""] =
    fixture.lines.join("\n").match(/worker processes ready \(pids ([\d, ]+)\)/) ?? [];
  return {
    url,
    fixture,
    workerPids: pids ? pids.split(", ").map(Number) : [],
    stop: () => stopProcess(fixture),
  };
}

export interface Reply<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

/** One HTTP call; a JSON body is sent as is when it is a string, else serialized. */
export async function call<T = Record<string, unknown>>(
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply<T>> {
  const response = await fetch(url, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers: { "content-type": "application/json", ...init.headers },
    ...(init.body === undefined
      ? {}
      : { body: typeof init.body === "string" ? init.body : JSON.stringify(init.body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: (text ? JSON.parse(text) : {}) as T,
    headers: response.headers,
  };
}

/** Whether a process with this id still exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
