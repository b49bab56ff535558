// The whole service as `npm start` runs it: main with 2 worker child
// processes, on Redis (BullMQ) and on PostgreSQL (pg-boss), driven over
// HTTP. Every outcome is checked in the journal the workers wrote, read
// through a store of the test's own. Each backend gets a namespace of its
// own (key prefix and queue, or schemas), removed at the end.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunView } from "../src/run-view.js";
import { type Fakes, RISK_SCORE, startFakes } from "./fakes.js";
import { alive, call, type Service, startService } from "./service.js";
import { allSteps, type Target, targets, trail, WORKFLOW } from "./targets.js";

describe.each(["redis", "postgres"] as const)("the approval service on %s", (backend) => {
  const namespace = `approval_t${randomBytes(5).toString("hex")}`;
  let target: Target;
  let fakes: Fakes;
  let service: Service;
  /** Every run id POST /requests handed out, to compare with what the store holds. */
  const started = new Set<string>();

  const api = (path: string) => `${service.url}${path}`;

  async function start(body: unknown, headers: Record<string, string> = {}): Promise<string> {
    const reply = await call<{ runId: string }>(api("/requests"), { body, headers });
    expect(reply.status).toBe(202);
    expect(reply.headers.get("location")).toBe(`/requests/${reply.body.runId}`);
    started.add(reply.body.runId);
    return reply.body.runId;
  }

  async function waitFor(runId: string): Promise<string> {
    const reply = await call<{ status: string; stopped: boolean }>(
      api(`/requests/${runId}/wait?timeoutMs=60000`),
    );
    expect(reply.status).toBe(200);
    expect(reply.body.stopped).toBe(true);
    return reply.body.status;
  }

  beforeAll(async () => {
    target = await targets[backend](namespace);
    fakes = await startFakes();
    service = await startService([
      ...target.args,
      "--namespace",
      namespace,
      "--workers",
      "2",
      "--concurrency",
      "4",
      "--risk-url",
      fakes.riskUrl,
      "--notify-url",
      fakes.notifyUrl,
    ]);
  });

  afterAll(async () => {
    const exit = await service?.stop();
    await fakes?.close();
    try {
      await target?.storage.close();
    } finally {
      await target?.drop();
    }
    // main closed its workers before it exited, cleanly.
    expect(exit).toEqual({ code: 0, signal: null });
    for (const pid of service?.workerPids ?? []) expect(alive(pid)).toBe(false);
  });

  it("runs two worker processes besides the server", () => {
    expect(service.workerPids).toHaveLength(2);
    for (const pid of service.workerPids) expect(alive(pid)).toBe(true);
  });

  it("approves a request: waits for the manager, then notifies once per step key", async () => {
    const runId = await start({ amount: 420, requester: "ada", description: "conference ticket" });
    expect(await waitFor(runId)).toBe("waiting_for_input");

    const view = await call<RunView>(api(`/requests/${runId}`));
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({
      runId,
      status: "waiting_for_input",
      headStep: 3,
      head: { step: 3, node: "approve", next: "approve" },
      question: { requestId: "approve", options: ["yes", "no"] },
      state: { amount: 420, requester: "ada", risk: { score: RISK_SCORE, level: "low" } },
    });
    expect(view.body.question?.prompt).toContain("Approve 420 EUR for ada");

    const answered = await call(api(`/requests/${runId}/answer`), { body: { approve: "yes" } });
    expect(answered.status).toBe(202);
    expect(await waitFor(runId)).toBe("completed");

    const steps = await allSteps(target.storage, runId);
    expect(trail(steps)).toEqual([
      "start:running",
      "validate:running",
      "risk:running",
      "approve:waiting_for_input",
      "approve:running",
      "notify:completed",
    ]);
    expect(steps[4]?.inputs).toEqual({ approve: "yes" });
    const key = `${WORKFLOW}/${runId}/5`;
    expect(steps[5]?.shared).toMatchObject({
      decision: "approved",
      notified: { idempotencyKey: key },
    });
    expect(await target.storage.getRun(WORKFLOW, runId)).toMatchObject({
      status: "completed",
      headStep: 5,
    });
    // At least once, always under the step's key: a receiver keeps one.
    const mine = fakes.deliveries.filter((d) => d.body.runId === runId);
    expect(mine.length).toBeGreaterThanOrEqual(1);
    for (const delivery of mine) {
      expect(delivery).toMatchObject({ idempotencyKey: key, body: { decision: "approved" } });
    }
  });

  it("rejects a request the manager says no to", async () => {
    const runId = await start({ amount: 99.5, requester: "grace", currency: "USD" });
    expect(await waitFor(runId)).toBe("waiting_for_input");
    expect((await call(api(`/requests/${runId}/answer`), { body: { approve: "no" } })).status).toBe(
      202,
    );
    expect(await waitFor(runId)).toBe("completed");

    const steps = await allSteps(target.storage, runId);
    expect(trail(steps).at(-1)).toBe("notify:completed");
    expect(steps.at(-1)?.shared).toMatchObject({
      amount: 99.5,
      currency: "USD",
      decision: "rejected",
    });
    const mine = fakes.deliveries.filter((d) => d.body.runId === runId);
    expect(mine.map((d) => d.body.decision)).toContain("rejected");
    for (const delivery of mine) expect(delivery.idempotencyKey).toBe(`${WORKFLOW}/${runId}/5`);

    // Answering a run that no longer waits is a conflict that says why.
    const again = await call<{ error: { code: string; message: string }; status: string }>(
      api(`/requests/${runId}/answer`),
      { body: { approve: "yes" } },
    );
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: { code: "RUN_NOT_WAITING" }, status: "completed" });
    expect(again.body.error.message).toContain("not waiting for a manager");
  });

  it("retries a refused notification through the queue, as a new step under the same key", async () => {
    const runId = await start({ amount: 310, requester: `flaky-${backend}` });
    expect(await waitFor(runId)).toBe("waiting_for_input");
    await call(api(`/requests/${runId}/answer`), { body: { approve: "yes" } });
    expect(await waitFor(runId)).toBe("completed");

    const steps = await allSteps(target.storage, runId);
    expect(trail(steps).slice(-3)).toEqual([
      "approve:running",
      "notify:failed",
      "notify:completed",
    ]);
    expect(steps[5]?.error?.message).toContain("answered 503");
    // The failed attempt is journalled and its retry is another step, but it
    // keeps the first attempt's key, so the receiver can tell it is the same call.
    const keys = fakes.deliveries
      .filter((d) => d.body.runId === runId)
      .map((d) => d.idempotencyKey);
    expect(keys).toEqual([`${WORKFLOW}/${runId}/5`, `${WORKFLOW}/${runId}/5`]);
    expect(steps[6]?.shared).toMatchObject({
      notified: { idempotencyKey: `${WORKFLOW}/${runId}/5` },
    });
  });

  it("gives one run for two starts with one Idempotency-Key: the first body wins", async () => {
    const key = `order-${randomBytes(4).toString("hex")}`;
    const first = await start({ amount: 10, requester: "ada" }, { "Idempotency-Key": key });
    const second = await start({ amount: 20, requester: "bob" }, { "Idempotency-Key": key });
    expect(second).toBe(first);
    expect(await waitFor(first)).toBe("waiting_for_input");
    const steps = await allSteps(target.storage, first);
    expect(steps[0]?.shared).toEqual({
      amount: 10,
      currency: "EUR",
      requester: "ada",
      description: "",
    });
    // A third start after the run exists still names it, and changes nothing.
    expect(await start({ amount: 30, requester: "eve" }, { "Idempotency-Key": key })).toBe(first);
    expect(await target.storage.getRun(WORKFLOW, first)).toMatchObject({
      status: "waiting_for_input",
      headStep: 3,
    });
  });

  it("cancels a run during the slow risk check: the check is given up and the journal ends cancelled", async () => {
    const requester = `hold-${backend}`;
    const runId = await start({ amount: 5_000, requester });
    // The barrier: the risk service holds the worker's request open from here on.
    const held = await fakes.held(requester);

    const cancelled = await call(api(`/requests/${runId}/cancel`), {
      body: { reason: "duplicate request" },
    });
    expect(cancelled).toMatchObject({ status: 200, body: { runId, status: "cancelled" } });
    // The node's signal fired: the worker dropped its call to the risk service.
    await held.aborted;
    expect(await waitFor(runId)).toBe("cancelled");

    const steps = await allSteps(target.storage, runId);
    expect(trail(steps)).toEqual(["start:running", "validate:running", "cancel:cancelled"]);
    const last = steps.at(-1);
    // Cut short at the risk check, whose outcome was never journalled.
    expect(last).toMatchObject({
      nextNodeId: "risk",
      error: { code: "CANCELLED", nodeId: "risk" },
    });
    expect(last?.error?.message).toContain("duplicate request");
    expect(last?.shared).not.toHaveProperty("risk");
    expect(await target.storage.getRun(WORKFLOW, runId)).toMatchObject({
      status: "cancelled",
      headStep: 2,
    });

    // The API reports it, and refuses to cancel or answer it again.
    expect((await call(api(`/requests/${runId}`))).body).toMatchObject({
      status: "cancelled",
      error: { code: "CANCELLED" },
      question: null,
    });
    const again = await call(api(`/requests/${runId}/cancel`), { method: "POST" });
    expect(again).toMatchObject({
      status: 409,
      body: { error: { code: "RUN_ENDED" }, status: "cancelled" },
    });
    const answer = await call(api(`/requests/${runId}/answer`), { body: { approve: "yes" } });
    expect(answer).toMatchObject({ status: 409, body: { status: "cancelled" } });
  });

  it("cancels a run that waits for its manager", async () => {
    const runId = await start({ amount: 75, requester: "linus" });
    expect(await waitFor(runId)).toBe("waiting_for_input");
    const cancelled = await call(api(`/requests/${runId}/cancel`), { method: "POST" });
    expect(cancelled).toMatchObject({ status: 200, body: { status: "cancelled" } });
    expect(await waitFor(runId)).toBe("cancelled");
    const steps = await allSteps(target.storage, runId);
    expect(trail(steps).slice(-2)).toEqual(["approve:waiting_for_input", "cancel:cancelled"]);
    expect(steps.at(-1)).toMatchObject({ error: { code: "CANCELLED", message: "cancelled" } });
    expect(fakes.deliveries.filter((d) => d.body.runId === runId)).toEqual([]);
  });

  it("lists requests page by page, filtered by status", async () => {
    const all: string[] = [];
    let cursor = "";
    do {
      const page = await call<{ items: { runId: string }[]; nextCursor: string | null }>(
        api(`/requests?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`),
      );
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(1);
      all.push(...page.body.items.map((item) => item.runId));
      cursor = page.body.nextCursor ?? "";
    } while (cursor);
    // Every run handed out, each once: nothing more was created.
    expect(all.toSorted()).toEqual([...started].toSorted());

    const waiting = await call<{ items: { runId: string; status: string }[] }>(
      api("/requests?status=waiting_for_input"),
    );
    expect(waiting.body.items.length).toBeGreaterThanOrEqual(1);
    for (const item of waiting.body.items) expect(item.status).toBe("waiting_for_input");
    const cancelled = await call<{ items: { runId: string }[] }>(api("/requests?status=cancelled"));
    expect(cancelled.body.items).toHaveLength(2);
  });

  it("refuses malformed input with 400, and unknown runs with 404", async () => {
    const bad = async (
      path: string,
      init: Parameters<typeof call>[1],
      code = "INVALID_INPUT",
      status = 400,
    ) => {
      const reply = await call<{ error: { code: string; message: string } }>(api(path), init);
      expect(reply.status, `${path} ${JSON.stringify(init)}`).toBe(status);
      expect(reply.body.error.code).toBe(code);
      expect(reply.body.error.message.length).toBeGreaterThan(10);
      return reply.body.error.message;
    };
    expect(await bad("/requests", { body: "{not json" })).toContain("not JSON");
    expect(await bad("/requests", { body: [1] })).toContain("JSON object");
    expect(await bad("/requests", { body: { amount: -1, requester: "ada" } })).toContain("amount");
    expect(await bad("/requests", { body: { amount: 1e12, requester: "ada" } })).toContain(
      "at most",
    );
    expect(await bad("/requests", { body: { amount: 1.001, requester: "ada" } })).toContain(
      "decimals",
    );
    expect(await bad("/requests", { body: { amount: 5 } })).toContain("requester");
    expect(await bad("/requests", { body: { amount: 5, requester: "ada", amont: 5 } })).toContain(
      '"amont"',
    );
    expect(
      await bad("/requests", { body: { amount: 5, requester: "ada", currency: "euro" } }),
    ).toContain("currency");
    expect(
      await bad("/requests", {
        body: { amount: 5, requester: "ada" },
        headers: { "Idempotency-Key": "a b" },
      }),
    ).toContain("Idempotency-Key");
    expect(await bad("/requests?status=done", {})).toContain("status must be one of");
    expect(await bad("/requests?limit=0", {})).toContain("limit");
    await bad("/requests?cursor=forged", {}, "INVALID_CURSOR");
    expect(await bad("/requests/bad%24id", {})).toContain("runId");
    expect(await bad("/requests/__proto__/answer", { body: { approve: "yes" } })).toContain(
      "runId",
    );
    expect(await bad("/requests/some-run/wait?timeoutMs=-5", {})).toContain("timeoutMs");

    const waitingRun = [...started][0] ?? "";
    expect(await bad(`/requests/${waitingRun}/answer`, { body: { approve: "maybe" } })).toContain(
      '"yes"',
    );
    expect(await bad(`/requests/${waitingRun}/cancel`, { body: { why: "x" } })).toContain('"why"');

    const unknown = "20260101_000000_000_000000000000";
    await bad(`/requests/${unknown}`, {}, "RUN_NOT_FOUND", 404);
    await bad(`/requests/${unknown}/wait?timeoutMs=0`, {}, "RUN_NOT_FOUND", 404);
    await bad(`/requests/${unknown}/answer`, { body: { approve: "yes" } }, "RUN_NOT_FOUND", 404);
    await bad(`/requests/${unknown}/cancel`, { method: "POST" }, "RUN_NOT_FOUND", 404);
    await bad("/nowhere", {}, "NOT_FOUND", 404);
    // None of these started a run.
    const page = await call<{ items: unknown[] }>(api("/requests?limit=100"));
    expect(page.body.items).toHaveLength(started.size);
  });
});
