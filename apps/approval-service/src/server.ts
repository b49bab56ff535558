import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { assertValidId, hasErrorCode, type WorkflowStorage } from "@wf/core";
import { type RunQueue, WorkflowClient } from "@wf/worker";
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import {
  InputError,
  parseAnswer,
  parseCancel,
  parseExpenseRequest,
  parseIdempotencyKey,
  parseJsonObject,
  parseListQuery,
  parseWaitQuery,
} from "./input.js";
import { readRun, summarize } from "./run-view.js";
import { APPROVE_REQUEST, WORKFLOW_ID } from "./workflow.js";

export interface ApiOptions {
  storage: WorkflowStorage;
  queue: RunQueue;
  /** Where unexpected errors are reported (they reach the client as a bare 500). */
  log?: (line: string) => void;
}

/** An error the API answers with a status and a JSON body `{ error: { code, message } }`. */
class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/**
 * The `code` of an error, if it has a string one. The worker's errors
 * (RUN_NOT_WAITING, WAIT_TIMEOUT, …) are told apart by code, not class, so a
 * second copy of a package in node_modules cannot break the check.
 */
function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

const MAX_BODY_BYTES = 16 * 1024;

/** How long POST /cancel waits for a worker to create a run that is still queued. */
const CANCEL_QUEUED_TIMEOUT_MS = 10_000;

function runIdParam(c: Context): string {
  const runId = c.req.param("runId");
  try {
    assertValidId(runId, "runId");
  } catch (error) {
    throw new InputError((error as Error).message);
  }
  return runId;
}

function notFound(runId: string): HttpError {
  return new HttpError(
    404,
    "RUN_NOT_FOUND",
    `No request has the run id ${JSON.stringify(runId)}. List them with GET /requests.`,
  );
}

/**
 * The HTTP API over one store and queue. It runs nothing: starting,
 * answering and cancelling go through the queue to the workers, and reads
 * go to the journal, so any number of these can serve one deployment.
 */
export function createApi(options: ApiOptions): Hono {
  const { storage, queue } = options;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const client = new WorkflowClient({ storage, queue });
  const app = new Hono();

  app.use(
    "*",
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new HttpError(
          413,
          "BODY_TOO_LARGE",
          `Bodies are limited to ${MAX_BODY_BYTES} bytes.`,
        );
      },
    }),
  );

  app.post("/requests", async (c) => {
    const expense = parseExpenseRequest(parseJsonObject(await c.req.text()));
    const idempotencyKey = parseIdempotencyKey(c.req.header("idempotency-key"));
    const { runId } = await client.start(WORKFLOW_ID, {
      initialState: expense,
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    });
    c.header("location", `/requests/${runId}`);
    return c.json({ runId, self: `/requests/${runId}`, wait: `/requests/${runId}/wait` }, 202);
  });

  app.get("/requests", async (c) => {
    const { status, cursor, limit } = parseListQuery(c.req.query());
    const page = await storage.listRuns(WORKFLOW_ID, {
      cursor,
      limit,
      ...(status === undefined ? {} : { status }),
    });
    return c.json({
      items: page.items.map(summarize),
      nextCursor: page.nextCursor,
      damaged: page.damaged,
    });
  });

  app.get("/requests/:runId", async (c) => {
    const runId = runIdParam(c);
    const view = await readRun(storage, queue, runId);
    if (view === null) throw notFound(runId);
    return c.json(view);
  });

  app.post("/requests/:runId/answer", async (c) => {
    const runId = runIdParam(c);
    const approve = parseAnswer(parseJsonObject(await c.req.text()));
    try {
      await client.answer(WORKFLOW_ID, runId, { [APPROVE_REQUEST]: approve });
    } catch (error) {
      if (errorCode(error) === "RUN_NOT_WAITING") {
        const status = (error as { status?: string }).status;
        throw new HttpError(
          409,
          "RUN_NOT_WAITING",
          `Request ${runId} is ${status}, not waiting for a manager: there is nothing to answer. GET /requests/${runId} shows where it is.`,
          { status },
        );
      }
      if (hasErrorCode(error, "RUN_NOT_FOUND")) throw await notCreatedYet(runId, "answered");
      throw error;
    }
    return c.json({ runId, answer: approve, wait: `/requests/${runId}/wait` }, 202);
  });

  app.post("/requests/:runId/cancel", async (c) => {
    const runId = runIdParam(c);
    const { reason } = parseCancel(parseJsonObject(await c.req.text(), true));
    let cancelled: boolean;
    try {
      // A run still queued is cancelled once a worker creates it: wait that long, not for ever.
      cancelled = await client.cancel(WORKFLOW_ID, runId, {
        timeoutMs: CANCEL_QUEUED_TIMEOUT_MS,
        ...(reason === undefined ? {} : { reason }),
      });
    } catch (error) {
      if (hasErrorCode(error, "RUN_NOT_FOUND") || errorCode(error) === "WAIT_TIMEOUT") {
        throw await notCreatedYet(runId, "cancelled");
      }
      throw error;
    }
    if (!cancelled) {
      const { status } = await storage.getRun(WORKFLOW_ID, runId);
      throw new HttpError(
        409,
        "RUN_ENDED",
        `Request ${runId} had already ended (${status}) before this cancel: nothing was changed.`,
        { status },
      );
    }
    return c.json({ runId, status: "cancelled" });
  });

  app.get("/requests/:runId/wait", async (c) => {
    const runId = runIdParam(c);
    const { timeoutMs } = parseWaitQuery(c.req.query());
    if ((await readRun(storage, queue, runId)) === null) throw notFound(runId);
    try {
      const status = await client.wait(WORKFLOW_ID, runId, { timeoutMs });
      return c.json({ runId, status, stopped: true });
    } catch (error) {
      if (errorCode(error) === "WAIT_TIMEOUT") {
        const view = await readRun(storage, queue, runId);
        return c.json({ runId, status: view?.status ?? "queued", stopped: false });
      }
      if (errorCode(error) === "JOB_DEAD_LETTERED") {
        return c.json({
          runId,
          status: "dead_lettered",
          stopped: true,
          error: { code: "JOB_DEAD_LETTERED", message: (error as Error).message },
        });
      }
      throw error;
    }
  });

  /** A run the store does not have: queued (409, try again soon) or unknown (404). */
  async function notCreatedYet(runId: string, action: string): Promise<HttpError> {
    const view = await readRun(storage, queue, runId);
    if (view === null) return notFound(runId);
    return new HttpError(
      409,
      "RUN_NOT_STARTED",
      `Request ${runId} is ${view.status}: no worker has started it yet, so it cannot be ${action}. Try again once GET /requests/${runId}/wait returns.`,
      { status: view.status },
    );
  }

  app.notFound((c) =>
    c.json(
      {
        error: {
          code: "NOT_FOUND",
          message: `No route ${c.req.method} ${c.req.path}. Routes: POST /requests, GET /requests, GET /requests/:runId, POST /requests/:runId/answer, POST /requests/:runId/cancel, GET /requests/:runId/wait.`,
        },
      },
      404,
    ),
  );

  app.onError((error, c) => {
    if (error instanceof HttpError) {
      return c.json(
        { error: { code: error.code, message: error.message }, ...error.extra },
        error.status,
      );
    }
    if (error instanceof InputError || hasErrorCode(error, "INVALID_CURSOR")) {
      return c.json({ error: { code: errorCode(error), message: error.message } }, 400);
    }
    if (hasErrorCode(error, "STORAGE_CLOSED")) {
      return c.json(
        {
          error: {
            code: "SHUTTING_DOWN",
            message: "The service is stopping; try again on another instance.",
          },
        },
        503,
      );
    }
    if (hasErrorCode(error, "STORAGE_UNAVAILABLE")) {
      return c.json(
        { error: { code: "STORAGE_UNAVAILABLE", message: `${error.message} Try again shortly.` } },
        503,
      );
    }
    log(`approval-service: ${c.req.method} ${c.req.path} failed: ${error.stack ?? error.message}`);
    return c.json(
      {
        error: {
          code: "INTERNAL",
          message: "The service failed on this request; its log says why.",
        },
      },
      500,
    );
  });

  return app;
}

export interface HttpServer {
  readonly url: string;
  readonly port: number;
  /** Stops listening and drops open connections (long waits included). */
  close(): Promise<void>;
}

/** Serves `createApi(options)` on `host:port` (0 picks a free port); resolves once it listens. */
export async function startServer(
  options: ApiOptions & { host: string; port: number },
): Promise<HttpServer> {
  const app = createApi(options);
  const { host } = options;
  const server = await new Promise<Server>((resolve, reject) => {
    const started = serve({ fetch: app.fetch, hostname: host, port: options.port }, () => {
      resolve(started as Server);
    }) as Server;
    started.once("error", (error: NodeJS.ErrnoException) => {
      const hint =
        error.code === "EADDRINUSE"
          ? ` Port ${options.port} is taken: pass --port with another (0 picks a free one).`
          : "";
      reject(
        new Error(`Cannot listen on ${host}:${options.port}: ${error.message}.${hint}`, {
          cause: error,
        }),
      );
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shown =
    host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${shown}:${port}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
