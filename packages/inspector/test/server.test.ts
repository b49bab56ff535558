// The inspector's server on its own: options, the security model (token,
// Origin, Host, CSP, the id rule) and the reads and writes behind the page.
import { type Page, WorkflowEngine } from "@wf/core";
import { collectPages } from "@wf/storage-conformance/records";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiError, CancelResult, RunsView, StepRange } from "../src/api-types.js";
import {
  type ActionResult,
  type BranchView,
  type DiffView,
  type Inspector,
  type RunView,
  type StatusCounts,
  type StepView,
  startInspector,
} from "../src/index.js";

import { incompatibleDefinition, REVIEW, reviewDefinition } from "./fixtures/review-workflow.js";
import { LEGACY, type SeededRuns, seedReviewRuns } from "./fixtures/seed.js";
import { fileSystemStore, type TestStore } from "./fixtures/stores.js";

let store: TestStore;
let runs: SeededRuns;
let inspector: Inspector;
let base: string;

beforeAll(async () => {
  store = await fileSystemStore();
  runs = await seedReviewRuns(store.storage);
  inspector = await startInspector({
    storage: store.storage,
    definitions: [reviewDefinition(), incompatibleDefinition(LEGACY)],
    port: 0,
  });
  base = `http://127.0.0.1:${inspector.port}`;
});

afterAll(async () => {
  await inspector?.close();
  await store?.destroy();
});

/** The JSON body of a response, as the page would read it. */
async function body<T = ApiError>(response: Response | Promise<Response>): Promise<T> {
  return (await (await response).json()) as T;
}

function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${base}${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      origin: base,
      "x-wf-token": inspector.token,
      ...headers,
    },
    body: JSON.stringify(body),
  });
}

const actions = (runId: string, workflowId = REVIEW) =>
  `/api/workflows/${workflowId}/runs/${runId}/actions`;

describe("startInspector", () => {
  it("listens on 127.0.0.1 by default, with a random token carried by the url", () => {
    expect(inspector.host).toBe("127.0.0.1");
    expect(inspector.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(inspector.url).toBe(`http://127.0.0.1:${inspector.port}/?token=${inspector.token}`);
  });

  it("refuses unknown options, a bad port and a short token with a TypeError or RangeError", async () => {
    const storage = store.storage;
    await expect(startInspector({ storage, prot: 1 } as never)).rejects.toThrow(
      /Unknown inspector option "prot"/,
    );
    await expect(startInspector({ storage, port: 70_000 })).rejects.toThrow(RangeError);
    await expect(startInspector({ storage, token: "short" })).rejects.toThrow(/16 to 256/);
    await expect(startInspector({ storage: {} as never })).rejects.toThrow(/WorkflowStorage/);
    // A read-only object is refused too: cancel and time travel write.
    const readOnly = {
      getRun: storage.getRun.bind(storage),
      getStep: storage.getStep.bind(storage),
      getLatestStep: storage.getLatestStep.bind(storage),
      listSteps: storage.listSteps.bind(storage),
      listRuns: storage.listRuns.bind(storage),
      listWorkflows: storage.listWorkflows.bind(storage),
    };
    await expect(startInspector({ storage: readOnly as never })).rejects.toThrow(
      "storage must be a WorkflowStorage (it has no createRun, appendStep, deleteRun, close methods).",
    );
    await expect(
      startInspector({ storage, definitions: [reviewDefinition(), reviewDefinition()] }),
    ).rejects.toThrow(/defined twice/);
  });

  it("says which port is taken", async () => {
    await expect(startInspector({ storage: store.storage, port: inspector.port })).rejects.toThrow(
      /Port \d+ is taken/,
    );
  });
});

describe("the page", () => {
  it("is served with a CSP that forbids inline script, and has no inline script", async () => {
    const response = await fetch(`${base}/`);
    expect(response.status).toBe(200);
    const csp = response.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-(inline|eval)/);
    const html = await response.text();
    expect(html).toMatch(/<script type="module" crossorigin src="\/assets\/[^"]+\.js">/);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });

  it("serves its script gzipped to a browser that accepts it", async () => {
    const html = await (await fetch(`${base}/`)).text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1] as string;
    const response = await fetch(`${base}${script}`, { headers: { "accept-encoding": "gzip" } });
    expect(response.headers.get("content-encoding")).toBe("gzip");
    expect(response.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect((await response.text()).length).toBeGreaterThan(100_000);
    expect((await fetch(`${base}/assets/..%2Fpackage.json`)).status).toBe(404);
  });

  it("carries the token only when the request presented it", async () => {
    const without = await (await fetch(`${base}/w/${REVIEW}`)).text();
    expect(without).not.toContain(inspector.token);
    const response = await fetch(`${base}/w/${REVIEW}?token=${inspector.token}`);
    expect(await response.text()).toContain(`<meta name="wf-token" content="${inspector.token}">`);
    expect(response.headers.get("set-cookie")).toMatch(/HttpOnly/i);
    expect(response.headers.get("set-cookie")).toMatch(/SameSite=Strict/i);
  });

  it("refuses a Host that is not the inspector (DNS rebinding)", async () => {
    const { request } = await import("node:http");
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port: inspector.port,
          path: "/api/workflows",
          headers: { host: `evil.example:${inspector.port}` },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(403);
  });

  it("applies the id rule to ids in URLs", async () => {
    const response = await fetch(`${base}/api/workflows/${REVIEW}/runs/..%2Fx`);
    expect(response.status).toBe(400);
    expect((await body(response)).error.code).toBe("INVALID_ID");
    expect((await fetch(`${base}/w/__proto__`)).status).toBe(400);
  });
});

describe("on a non-loopback host", () => {
  it("needs the token on every request", async () => {
    const open = await startInspector({ storage: store.storage, host: "0.0.0.0", port: 0 });
    try {
      const url = `http://127.0.0.1:${open.port}`;
      expect((await fetch(`${url}/`)).status).toBe(403);
      expect((await fetch(`${url}/api/workflows`)).status).toBe(403);
      expect(
        (await fetch(`${url}/api/workflows`, { headers: { "x-wf-token": "x".repeat(32) } })).status,
      ).toBe(403);
      expect(
        (await fetch(`${url}/api/workflows`, { headers: { "x-wf-token": open.token } })).status,
      ).toBe(200);
      const page = await fetch(`${url}/?token=${open.token}`);
      expect(page.status).toBe(200);
      const cookie = (page.headers.get("set-cookie") ?? "").split(";")[0] as string;
      expect((await fetch(`${url}/api/workflows`, { headers: { cookie } })).status).toBe(200);
    } finally {
      await open.close();
    }
  });
});

describe("reads", () => {
  it("lists workflows, runs with filters and search, and counts per status", async () => {
    const workflows = await body<Page<string>>(fetch(`${base}/api/workflows`));
    expect(workflows.items).toEqual([LEGACY, REVIEW]);
    const all = await body<RunsView>(fetch(`${base}/api/workflows/${REVIEW}/runs`));
    expect(all.items).toHaveLength(5);
    const waiting = await body<RunsView>(
      fetch(`${base}/api/workflows/${REVIEW}/runs?status=waiting_for_input`),
    );
    expect(waiting.items.map((run) => run.runId).sort()).toEqual([runs.fork, runs.waiting].sort());
    const found = await body<RunsView>(
      fetch(`${base}/api/workflows/${REVIEW}/runs?q=${runs.failed}`),
    );
    expect(found.items.map((run) => run.runId)).toEqual([runs.failed]);
    const counts = await body<StatusCounts>(fetch(`${base}/api/workflows/${REVIEW}/counts`));
    expect(counts).toEqual({
      total: 5,
      byStatus: { running: 0, waiting_for_input: 2, completed: 2, failed: 1, cancelled: 0 },
      complete: true,
    });
  });

  it("reads a fork's steps below the fork point from its source", async () => {
    const range = await body<StepRange>(
      fetch(`${base}/api/workflows/${REVIEW}/runs/${runs.fork}/steps?from=0&to=99`),
    );
    expect(
      range.rows.map((row) => [row.step, "ownerRunId" in row ? row.ownerRunId : null]),
    ).toEqual([
      [0, runs.completed],
      [1, runs.completed],
      [2, runs.fork],
      [3, runs.fork],
      [4, runs.fork],
      [5, runs.fork],
    ]);
  });

  it("marks the steps a resume superseded", async () => {
    const view = await body<BranchView>(
      fetch(`${base}/api/workflows/${REVIEW}/runs/${runs.resumed}/branches`),
    );
    expect(view.branchStarts).toEqual([{ step: 6, parent: 2 }]);
    expect(view.onTimeline).toEqual([
      [0, 2],
      [6, 7],
    ]);
    const source = await body<BranchView>(
      fetch(`${base}/api/workflows/${REVIEW}/runs/${runs.completed}/branches`),
    );
    expect(source.forks).toEqual([{ runId: runs.fork, step: 2 }]);
  });

  it("diffs a step against its parent, and two runs at any pair of steps", async () => {
    const step = await body<StepView>(
      fetch(`${base}/api/workflows/${REVIEW}/runs/${runs.resumed}/steps/6`),
    );
    expect(step.previousStep).toBe(2);
    expect(step.changes).toEqual([{ type: "CREATE", path: ["verdict"], value: "approve" }]);
    const diff = await body<DiffView>(
      fetch(`${base}/api/workflows/${REVIEW}/diff?a=${runs.completed}:3&b=${runs.fork}:3`),
    );
    expect(diff.changes).toEqual([
      { type: "CHANGE", path: ["verdict"], value: "revise", oldValue: "approve" },
    ]);
  });
});

describe("time travel", () => {
  it("refuses a cross-origin POST, one without the token and one that is not JSON, writing nothing", async () => {
    const before = await store.storage.getRun(REVIEW, runs.waiting);
    const answer = { action: "answer", step: 2, requestId: "Review", answer: "approve" };
    const crossOrigin = await post(actions(runs.waiting), answer, {
      origin: "http://evil.example",
    });
    expect(crossOrigin.status).toBe(403);
    expect((await body(crossOrigin)).error.code).toBe("ORIGIN_REFUSED");
    const noToken = await post(actions(runs.waiting), answer, { "x-wf-token": "" });
    expect((await body(noToken)).error.code).toBe("TOKEN_REQUIRED");
    const form = await post(actions(runs.waiting), answer, { "content-type": "text/plain" });
    expect(form.status).toBe(400);
    expect((await fetch(`${base}${actions(runs.waiting)}`)).status).toBe(404);
    expect(await store.storage.getRun(REVIEW, runs.waiting)).toEqual(before);
  });

  it("steps from an earlier step by appending a branch, never overwriting", async () => {
    const before = await store.storage.getStep(REVIEW, runs.completed, 2);
    const response = await post(actions(runs.completed), { action: "step", step: 1 });
    expect(response.status).toBe(200);
    const result = await body<ActionResult>(response);
    expect(result).toMatchObject({
      runId: runs.completed,
      headStep: 5,
      currentStep: 5,
      status: "waiting_for_input",
    });
    const appended = await store.storage.getStep(REVIEW, runs.completed, 5);
    expect(appended.parent).toBe(1);
    expect(await store.storage.getStep(REVIEW, runs.completed, 2)).toEqual(before);
  });

  it("forks from a step into a new run", async () => {
    const result = await body<ActionResult>(
      post(actions(runs.resumed), { action: "fork", step: 1 }),
    );
    const fork = await store.storage.getRun(REVIEW, result.runId);
    expect(fork.forkedFrom).toEqual({ runId: runs.resumed, step: 1 });
  });

  it("shows a refused resume as Cannot resume (INCOMPATIBLE_STATE) and writes nothing", async () => {
    const before = await store.storage.getRun(LEGACY, runs.legacy);
    const response = await post(actions(runs.legacy, LEGACY), { action: "step", step: 1 });
    expect(response.status).toBe(409);
    const { error } = await body(response);
    expect(error.code).toBe("INCOMPATIBLE_STATE");
    expect(error.message).toMatch(/^Cannot resume:/);
    expect(await store.storage.getRun(LEGACY, runs.legacy)).toEqual(before);
  });

  it("refuses an answer to a question that is not pending (UNEXPECTED_INPUT)", async () => {
    const response = await post(actions(runs.waiting), {
      action: "answer",
      step: 2,
      requestId: "Other",
      answer: 1,
    });
    expect(response.status).toBe(409);
    expect((await body(response)).error.code).toBe("UNEXPECTED_INPUT");
  });

  it("says why when the workflow has no definition", async () => {
    const bare = await startInspector({ storage: store.storage, port: 0 });
    try {
      const url = `http://127.0.0.1:${bare.port}`;
      const view = await body<RunView>(
        fetch(`${url}/api/workflows/${REVIEW}/runs/${runs.waiting}`),
      );
      expect(view.actions).toEqual({
        available: false,
        reason: expect.stringContaining("--definition"),
      });
      const response = await fetch(`${url}${actions(runs.waiting)}`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: url, "x-wf-token": bare.token },
        body: JSON.stringify({ action: "step", step: 2 }),
      });
      expect(response.status).toBe(403);
      expect((await body(response)).error.code).toBe("NO_DEFINITION");
    } finally {
      await bare.close();
    }
  });
});

describe("cancelling", () => {
  const cancelPath = (runId: string, workflowId = REVIEW) =>
    `/api/workflows/${workflowId}/runs/${runId}/cancel`;

  /** A new run of the review workflow, waiting at step 2 for its Review question. */
  async function waitingRun(): Promise<string> {
    const engine = await WorkflowEngine.create({ ...reviewDefinition(), storage: store.storage });
    await engine.run();
    return engine.runId;
  }

  it("refuses a cross-origin POST, one without the token, one that is not JSON and a bad reason, writing nothing", async () => {
    const runId = await waitingRun();
    const before = await store.storage.getRun(REVIEW, runId);
    const crossOrigin = await post(
      cancelPath(runId),
      { reason: "x" },
      { origin: "http://evil.example" },
    );
    expect(crossOrigin.status).toBe(403);
    expect((await body(crossOrigin)).error.code).toBe("ORIGIN_REFUSED");
    const noOrigin = await post(cancelPath(runId), { reason: "x" }, { origin: "" });
    expect((await body(noOrigin)).error.code).toBe("ORIGIN_REFUSED");
    const noToken = await post(cancelPath(runId), { reason: "x" }, { "x-wf-token": "" });
    expect(noToken.status).toBe(403);
    const refusal = await body(noToken);
    expect(refusal.error.code).toBe("TOKEN_REQUIRED");
    expect(refusal.error.message).toContain("Cancelling a run needs the inspector's token");
    const wrongToken = await post(cancelPath(runId), {}, { "x-wf-token": "x".repeat(32) });
    expect((await body(wrongToken)).error.code).toBe("TOKEN_REQUIRED");
    const form = await post(cancelPath(runId), { reason: "x" }, { "content-type": "text/plain" });
    expect(form.status).toBe(400);
    expect((await body(form)).error.code).toBe("JSON_REQUIRED");
    const notText = await post(cancelPath(runId), { reason: 42 });
    expect(notText.status).toBe(400);
    expect((await body(notText)).error.message).toContain("reason must be a string");
    const long = await post(cancelPath(runId), { reason: "r".repeat(1001) });
    expect(long.status).toBe(400);
    expect((await fetch(`${base}${cancelPath(runId)}`)).status).toBe(404);
    expect(await store.storage.getRun(REVIEW, runId)).toEqual(before);
  });

  it("cancels a waiting run without a definition: a cancelled step with the reason, the counts and the listing follow", async () => {
    const runId = await waitingRun();
    const waitingHead = await store.storage.getLatestStep(REVIEW, runId);
    // An inspector started without any definition module can cancel: cancelRun needs none.
    const bare = await startInspector({ storage: store.storage, port: 0 });
    try {
      const url = `http://127.0.0.1:${bare.port}`;
      const countsBefore = await body<StatusCounts>(fetch(`${url}/api/workflows/${REVIEW}/counts`));
      const response = await fetch(`${url}${cancelPath(runId)}`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: url, "x-wf-token": bare.token },
        body: JSON.stringify({ reason: "duplicate <b>order</b>" }),
      });
      expect(response.status).toBe(200);
      expect(await body<CancelResult>(response)).toEqual({
        runId,
        cancelled: true,
        status: "cancelled",
        headStep: 3,
      });
      const stored = await store.storage.getLatestStep(REVIEW, runId);
      expect(stored).toMatchObject({
        step: 3,
        parent: 2,
        status: "cancelled",
        previousNodeId: null,
        nextNodeId: "Review",
        shared: waitingHead.shared,
        awaitingInput: null,
        error: {
          name: "RunCancelled",
          code: "CANCELLED",
          message: "duplicate <b>order</b>",
          nodeId: "Review",
          stack: null,
        },
      });
      expect(await store.storage.getStep(REVIEW, runId, 2)).toEqual(waitingHead);
      // Counted at once, not after the counts' cache expires.
      const countsAfter = await body<StatusCounts>(fetch(`${url}/api/workflows/${REVIEW}/counts`));
      expect(countsAfter.byStatus.cancelled).toBe(countsBefore.byStatus.cancelled + 1);
      expect(countsAfter.byStatus.waiting_for_input).toBe(
        countsBefore.byStatus.waiting_for_input - 1,
      );
      const listed = await body<RunsView>(
        fetch(`${url}/api/workflows/${REVIEW}/runs?status=cancelled`),
      );
      expect(listed.items.map((run) => run.runId)).toContain(runId);
      const view = await body<RunView>(fetch(`${url}/api/workflows/${REVIEW}/runs/${runId}`));
      expect(view.run.status).toBe("cancelled");
      expect(view.head).toMatchObject({
        step: 3,
        status: "cancelled",
        errorMessage: "duplicate <b>order</b>",
      });
    } finally {
      await bare.close();
    }
  });

  it("answers 409 NOT_CANCELLABLE for a cancelled or completed run, writing nothing; a failed run can be cancelled", async () => {
    const runId = await waitingRun();
    expect((await post(cancelPath(runId), {})).status).toBe(200);
    const stored = await store.storage.getLatestStep(REVIEW, runId);
    expect(stored.error?.message).toBe("cancelled in the inspector");
    const again = await post(cancelPath(runId), { reason: "twice" });
    expect(again.status).toBe(409);
    const { error } = await body(again);
    expect(error.code).toBe("NOT_CANCELLABLE");
    expect(error.message).toBe(
      `Run ${runId} is cancelled already (head step 3): there is nothing to cancel.`,
    );
    expect(await store.storage.getLatestStep(REVIEW, runId)).toEqual(stored);

    const finished = await post(cancelPath(runs.failed), {});
    // A failed run has not ended: it can be resumed, so it can be cancelled.
    expect(finished.status).toBe(200);
    const approved = await WorkflowEngine.create({ ...reviewDefinition(), storage: store.storage });
    await approved.run();
    await approved.run({ Review: "approve" });
    const done = await store.storage.getRun(REVIEW, approved.runId);
    const refused = await post(cancelPath(approved.runId), {});
    expect(refused.status).toBe(409);
    expect((await body(refused)).error.message).toContain("is completed already");
    expect(await store.storage.getRun(REVIEW, approved.runId)).toEqual(done);
  });

  it("refuses a fork from the cancel step with 409, naming the step before it, and creates no run", async () => {
    const runId = await waitingRun();
    expect((await post(cancelPath(runId), {})).status).toBe(200);
    const head = await store.storage.getLatestStep(REVIEW, runId);
    const before = await collectPages((cursor) => store.storage.listRuns(REVIEW, { cursor }));
    const refused = await post(actions(runId), { action: "fork", step: head.step });
    expect(refused.status).toBe(409);
    const { error } = await body(refused);
    expect(error.code).toBe("FORK_OF_CANCEL_STEP");
    expect(error.message).toContain(`Fork from step ${head.parent}`);
    const after = await collectPages((cursor) => store.storage.listRuns(REVIEW, { cursor }));
    expect(after.length).toBe(before.length);
    const fromBefore = await post(actions(runId), { action: "fork", step: head.parent });
    expect(fromBefore.status).toBe(200);
  });

  it("applies the id rule and says when the run does not exist", async () => {
    const hostile = await post(cancelPath("..%2Fx"), {});
    expect(hostile.status).toBe(400);
    expect((await body(hostile)).error.code).toBe("INVALID_ID");
    const missing = await post(cancelPath("no-such-run"), {});
    expect(missing.status).toBe(404);
    expect((await body(missing)).error.code).toBe("RUN_NOT_FOUND");
  });
});
