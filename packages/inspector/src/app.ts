/** The inspector's HTTP routes: the page, the read API, live updates and time travel. */

import type { WorkflowSpec } from "@wf/core";
import {
  assertValidId,
  hasErrorCode,
  isValidId,
  RUN_STATUSES,
  type RunMetadata,
  type RunStatus,
  WorkflowError,
  type WorkflowStorage,
} from "@wf/core";
import { type Context, Hono } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { type SSEStreamingApi, streamSSE } from "hono/streaming";
import { parseActionRequest, runAction } from "./actions.js";
import type { ApiError, DiffView, RunsView, StatusCounts } from "./api-types.js";
import { cancelFromPage, NotCancellable, parseCancelRequest } from "./cancel.js";
import type { PageFiles } from "./page-files.js";
import {
  BranchScanner,
  diffStates,
  readRange,
  readRunView,
  readStep,
  readStepView,
  scanRuns,
  surveyRuns,
  timelineOwners,
  type WorkflowSurvey,
} from "./run-reads.js";
import {
  allowedHosts,
  cookieName,
  isLoopback,
  presentedToken,
  SECURITY_HEADERS,
  sameToken,
  TOKEN_HEADER,
} from "./security.js";

export interface AppSettings {
  storage: WorkflowStorage;
  definitions: Map<string, WorkflowSpec>;
  host: string;
  token: string;
  page: PageFiles;
  /** Filled in once the server listens (port 0 picks one). */
  port: () => number;
  /** Live streams open now, aborted when the inspector closes. */
  streams: Set<SSEStreamingApi>;
}

/** How often a live stream reads the run it follows. */
const RUN_POLL_MS = 500;
/** How often a live stream on a workflow reads its newest runs. */
const WORKFLOW_POLL_MS = 1000;
/** How long a survey of a workflow's runs (counts, forks) is kept at least. */
const MIN_SURVEY_AGE_MS = 2000;

class BadRequest extends Error {
  override name = "BadRequest";
}

function statusOf(error: unknown): 400 | 403 | 404 | 409 | 500 | 503 {
  if (error instanceof BadRequest || error instanceof TypeError || error instanceof RangeError) {
    return 400;
  }
  if (error instanceof NotCancellable) return 409;
  if (!(error instanceof WorkflowError)) return 500;
  switch (error.code) {
    case "RUN_NOT_FOUND":
    case "STEP_NOT_FOUND":
      return 404;
    case "INVALID_ID":
    case "INVALID_CURSOR":
    case "NOT_SERIALIZABLE":
      return 400;
    case "INCOMPATIBLE_STATE":
    case "FORK_OF_CANCEL_STEP":
    case "STEP_CONFLICT":
    case "RUN_EXISTS":
    case "UNEXPECTED_INPUT":
      return 409;
    case "STORAGE_UNAVAILABLE":
      return 503;
    default:
      return 500;
  }
}

function errorBody(error: unknown): ApiError {
  const err = error instanceof Error ? error : new Error(String(error));
  const code = (err as { code?: unknown }).code;
  return {
    error: {
      code: typeof code === "string" ? code : err.name,
      name: err.name,
      message: err.message,
    },
  };
}

function refuse(c: Context, status: 400 | 403 | 404, code: string, message: string) {
  return c.json({ error: { code, name: "Refused", message } } satisfies ApiError, status);
}

function stepParam(value: string | undefined, name: string): number {
  const step = Number(value);
  if (value === undefined || !/^\d{1,15}$/.test(value) || !Number.isSafeInteger(step)) {
    throw new BadRequest(
      `${name} must be a non-negative integer step number, got ${JSON.stringify(value)}.`,
    );
  }
  return step;
}

function statusParam(value: string | undefined): RunStatus | undefined {
  if (value === undefined || value === "") return undefined;
  if (!RUN_STATUSES.includes(value as RunStatus)) {
    throw new BadRequest(
      `status must be one of ${RUN_STATUSES.join(", ")}, got ${JSON.stringify(value)}.`,
    );
  }
  return value as RunStatus;
}

/** `runId:step`, as the compare view names a side. */
function sideParam(value: string | undefined, name: string): { runId: string; step: number } {
  const [runId, step] = (value ?? "").split(":");
  assertValidId(runId, `${name} run id`);
  return { runId, step: stepParam(step, `${name} step`) };
}

export function createApp(settings: AppSettings): Hono {
  const { storage, definitions, token, page, streams } = settings;
  const loopback = isLoopback(settings.host);
  const surveys = new Map<string, { at: number; took: number; value: Promise<WorkflowSurvey> }>();
  const branches = new BranchScanner(
    storage,
    async (run) => (await surveyOf(run.workflowId)).forksBySource.get(run.runId) ?? [],
  );
  const app = new Hono();

  /** Counts and forks read every run of a workflow: kept a while, longer when reading them is slow. */
  function surveyOf(workflowId: string): Promise<WorkflowSurvey> {
    const cached = surveys.get(workflowId);
    const now = Date.now();
    if (cached && now - cached.at < Math.max(MIN_SURVEY_AGE_MS, cached.took * 5)) {
      return cached.value;
    }
    const entry = { at: now, took: cached?.took ?? 0, value: surveyRuns(storage, workflowId) };
    entry.value.then(
      () => {
        entry.took = Date.now() - now;
      },
      () => surveys.delete(workflowId),
    );
    surveys.set(workflowId, entry);
    return entry.value;
  }

  const countsOf = async (workflowId: string): Promise<StatusCounts> =>
    (await surveyOf(workflowId)).counts;

  function actionsFor(workflowId: string): { available: boolean; reason: string | null } {
    if (definitions.has(workflowId)) return { available: true, reason: null };
    const reason =
      definitions.size === 0
        ? "No definition module is loaded: start the inspector with `wf ui --definition ./module.js` to step, run, fork or answer."
        : `The definition module has no workflow ${JSON.stringify(workflowId)}; load the module that defines it.`;
    return { available: false, reason };
  }

  app.use("*", async (c, next) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.header(name, value);
    const port = settings.port();
    if (loopback) {
      const host = c.req.header("host") ?? "";
      if (!allowedHosts(port).has(host)) {
        return refuse(
          c,
          403,
          "HOST_REFUSED",
          `Host ${JSON.stringify(host)} is not this inspector.`,
        );
      }
    } else {
      const given = presentedToken(c.req, getCookie(c), c.req.query("token"), port);
      if (!sameToken(given, token)) {
        return refuse(
          c,
          403,
          "TOKEN_REQUIRED",
          "Open the address the inspector printed: it carries the token.",
        );
      }
    }
    await next();
  });

  app.onError((error, c) => c.json(errorBody(error), statusOf(error)));

  // ---- the page ----
  const sendPage = (c: Context) => {
    const port = settings.port();
    const query = c.req.query("token");
    const given = query ?? getCookie(c, cookieName(port)) ?? null;
    const presented = sameToken(given, token);
    if (presented && query !== undefined) {
      setCookie(c, cookieName(port), token, { httpOnly: true, sameSite: "Strict", path: "/" });
    }
    // The token reaches the page only when the request presented it, never to a plain page load.
    const meta = presented ? `<meta name="wf-token" content="${token}">` : "";
    c.header("Cache-Control", "no-store");
    return c.html(page.indexHtml.replace("<!--wf-token-->", meta));
  };
  const checkIds = (c: Context) => {
    for (const [name, value] of Object.entries(c.req.param())) {
      if (name === "step") stepParam(value, "step");
      else assertValidId(value, name);
    }
  };
  app.get("/", sendPage);
  for (const route of [
    "/w/:workflow",
    "/w/:workflow/r/:run",
    "/w/:workflow/r/:run/s/:step",
    "/w/:workflow/compare/:a/:b",
  ]) {
    app.get(route, (c) => {
      checkIds(c);
      return sendPage(c);
    });
  }
  const sendAsset = (c: Context, path: string) => {
    const asset = page.assets.get(path);
    if (!asset) return c.notFound();
    c.header("Content-Type", asset.contentType);
    c.header("Vary", "Accept-Encoding");
    // Asset names carry a hash of their content.
    if (path.startsWith("/assets/"))
      c.header("Cache-Control", "public, max-age=31536000, immutable");
    if (/\bgzip\b/.test(c.req.header("accept-encoding") ?? "")) {
      c.header("Content-Encoding", "gzip");
      return c.body(new Uint8Array(asset.gzipped));
    }
    return c.body(new Uint8Array(asset.body));
  };
  app.get("/assets/*", (c) => sendAsset(c, c.req.path));
  app.get("/favicon.svg", (c) => sendAsset(c, "/favicon.svg"));

  // ---- reads ----
  app.get("/api/workflows", async (c) => {
    const cursor = c.req.query("cursor") || null;
    return c.json(await storage.listWorkflows({ cursor, limit: 100 }));
  });
  // Every id in an API address goes through the id rule before anything is read.
  for (const scope of ["/api/workflows/:workflow/*", "/api/workflows/:workflow/runs/:run/*"]) {
    app.use(scope, async (c, next) => {
      checkIds(c);
      await next();
    });
  }
  app.get("/api/workflows/:workflow/runs", async (c) => {
    const workflowId = c.req.param("workflow");
    const status = statusParam(c.req.query("status"));
    const query = (c.req.query("q") ?? "").trim();
    if (query !== "") return c.json(await searchRuns(workflowId, query, status));
    const limit = Math.min(Number(c.req.query("limit") ?? 50) || 50, 200);
    const page = await storage.listRuns(workflowId, {
      cursor: c.req.query("cursor") || null,
      limit,
      ...(status ? { status } : {}),
    });
    return c.json({
      items: page.items,
      nextCursor: page.nextCursor,
      damaged: page.damaged.map(({ runId, reason }) => ({ runId, reason })),
      search: null,
    } satisfies RunsView);
  });
  app.get("/api/workflows/:workflow/counts", async (c) =>
    c.json(await countsOf(c.req.param("workflow"))),
  );
  app.get("/api/workflows/:workflow/runs/:run", async (c) => {
    const workflowId = c.req.param("workflow");
    return c.json(
      await readRunView(storage, workflowId, c.req.param("run"), actionsFor(workflowId)),
    );
  });
  app.get("/api/workflows/:workflow/runs/:run/steps", async (c) => {
    const run = await storage.getRun(c.req.param("workflow"), c.req.param("run"));
    const from = stepParam(c.req.query("from"), "from");
    const to = stepParam(c.req.query("to"), "to");
    return c.json({ from, to, rows: await readRange(storage, run, from, to) });
  });
  app.get("/api/workflows/:workflow/runs/:run/steps/:step", async (c) => {
    const run = await storage.getRun(c.req.param("workflow"), c.req.param("run"));
    return c.json(await readStepView(storage, run, stepParam(c.req.param("step"), "step")));
  });
  app.get("/api/workflows/:workflow/runs/:run/branches", async (c) => {
    const run = await storage.getRun(c.req.param("workflow"), c.req.param("run"));
    return c.json(await branches.branches(run));
  });
  app.get("/api/workflows/:workflow/diff", async (c) => {
    const workflowId = c.req.param("workflow");
    const a = sideParam(c.req.query("a"), "a");
    const b = sideParam(c.req.query("b"), "b");
    const read = async (side: { runId: string; step: number }) => {
      const run = await storage.getRun(workflowId, side.runId);
      return readStep(storage, await timelineOwners(storage, run), side.step);
    };
    const [left, right] = await Promise.all([read(a), read(b)]);
    return c.json({ a, b, changes: diffStates(left.shared, right.shared) } satisfies DiffView);
  });

  async function searchRuns(workflowId: string, query: string, status: RunStatus | undefined) {
    const items: RunMetadata[] = [];
    if (isValidId(query)) {
      try {
        const exact = await storage.getRun(workflowId, query);
        if (!status || exact.status === status) items.push(exact);
      } catch (error) {
        if (!hasErrorCode(error, "RUN_NOT_FOUND")) throw error;
      }
    }
    const needle = query.toLowerCase();
    const { scanned, complete } = await scanRuns(storage, workflowId, status, (run) => {
      if (items.length < 200 && run.runId !== query && run.runId.toLowerCase().includes(needle)) {
        items.push(run);
      }
    });
    return {
      items,
      nextCursor: null,
      damaged: [],
      search: { query, scanned, complete },
    } satisfies RunsView;
  }

  // ---- live updates (server-sent events, read through the contract by polling) ----
  app.get("/api/workflows/:workflow/live", (c) => {
    const workflowId = c.req.param("workflow");
    const runId = c.req.query("run");
    if (runId !== undefined) assertValidId(runId, "run");
    return streamSSE(c, async (stream) => {
      streams.add(stream);
      stream.onAbort(() => {
        streams.delete(stream);
      });
      let last = "";
      try {
        while (!stream.aborted && !stream.closed) {
          if (runId !== undefined) {
            const run = await storage.getRun(workflowId, runId);
            const signature = `${run.headStep}|${run.status}|${run.updatedAt}`;
            if (signature !== last) {
              last = signature;
              await stream.writeSSE({ event: "run", data: JSON.stringify(run) });
            }
            await stream.sleep(RUN_POLL_MS);
          } else {
            const newest = await storage.listRuns(workflowId, { limit: 20 });
            const value = await countsOf(workflowId);
            const signature = JSON.stringify([
              value,
              newest.items.map((run) => [run.runId, run.status, run.headStep]),
            ]);
            if (signature !== last) {
              last = signature;
              await stream.writeSSE({ event: "runs", data: JSON.stringify(value) });
            }
            await stream.sleep(WORKFLOW_POLL_MS);
          }
        }
      } catch (error) {
        if (!stream.aborted) {
          await stream.writeSSE({ event: "failure", data: JSON.stringify(errorBody(error)) });
        }
      } finally {
        streams.delete(stream);
      }
    });
  });

  // ---- writes: POST only, JSON only, same origin, with the token ----
  /** The refusal of a write that lacks a same-origin Origin, the token or a JSON body; null when it has them. */
  const refuseWrite = (c: Context, what: string) => {
    const origin = c.req.header("origin");
    const host = c.req.header("host");
    if (!origin || origin !== `http://${host}`) {
      return refuse(
        c,
        403,
        "ORIGIN_REFUSED",
        `Cross-origin request refused (Origin ${JSON.stringify(origin ?? null)}).`,
      );
    }
    if (!sameToken(c.req.header(TOKEN_HEADER), token)) {
      return refuse(
        c,
        403,
        "TOKEN_REQUIRED",
        `${what} needs the inspector's token in the ${TOKEN_HEADER} header: open the address the inspector printed.`,
      );
    }
    if (!(c.req.header("content-type") ?? "").startsWith("application/json")) {
      return refuse(c, 400, "JSON_REQUIRED", "Send the request body as application/json.");
    }
    return null;
  };
  const jsonBody = async (c: Context): Promise<unknown> => {
    try {
      return await c.req.json();
    } catch {
      throw new BadRequest("The request body is not valid JSON.");
    }
  };

  // Time travel needs the workflow's definition.
  app.post("/api/workflows/:workflow/runs/:run/actions", async (c) => {
    const refused = refuseWrite(c, "Time travel");
    if (refused) return refused;
    const workflowId = c.req.param("workflow");
    const definition = definitions.get(workflowId);
    if (!definition) {
      return refuse(c, 403, "NO_DEFINITION", actionsFor(workflowId).reason as string);
    }
    const request = parseActionRequest(await jsonBody(c));
    return c.json(await runAction(storage, definition, c.req.param("run"), request));
  });

  // Cancelling needs no definition: it appends a cancelled step on the head (cancelRun).
  app.post("/api/workflows/:workflow/runs/:run/cancel", async (c) => {
    const refused = refuseWrite(c, "Cancelling a run");
    if (refused) return refused;
    const workflowId = c.req.param("workflow");
    const request = parseCancelRequest(await jsonBody(c));
    const result = await cancelFromPage(storage, workflowId, c.req.param("run"), request);
    // The counts change at once: the next read surveys the runs again.
    surveys.delete(workflowId);
    return c.json(result);
  });

  app.notFound((c) => refuse(c, 404, "NOT_FOUND", `Nothing at ${c.req.path}.`));
  return app;
}
