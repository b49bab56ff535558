// The service split as it is across machines: one process with only the
// HTTP API (`--role server`) and another with only workers (`--role
// worker`), sharing nothing but the servers and the namespace. Until a
// worker exists, a request is accepted and reported queued; once one
// starts, it takes the queued run.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Fakes, startFakes } from "./fakes.js";
import { alive, call, type Service, startService, waitForLine } from "./service.js";
import { allSteps, type Target, targets, trail, WORKFLOW } from "./targets.js";

describe.each(["redis", "postgres"] as const)("server and workers apart, on %s", (backend) => {
  const namespace = `approval_m${randomBytes(5).toString("hex")}`;
  let target: Target;
  let fakes: Fakes;
  let server: Service;
  let workers: Service | undefined;
  let shared: string[];

  beforeAll(async () => {
    target = await targets[backend](namespace);
    fakes = await startFakes();
    shared = [
      ...target.args,
      "--namespace",
      namespace,
      "--risk-url",
      fakes.riskUrl,
      "--notify-url",
      fakes.notifyUrl,
    ];
    server = await startService([...shared, "--role", "server"]);
  });

  afterAll(async () => {
    await workers?.stop();
    const exit = await server?.stop();
    await fakes?.close();
    try {
      await target?.storage.close();
    } finally {
      await target?.drop();
    }
    expect(exit).toEqual({ code: 0, signal: null });
  });

  it("queues requests while no worker runs, and a worker started elsewhere runs them", async () => {
    expect(server.workerPids).toEqual([]);
    const api = (path: string) => `${server.url}${path}`;
    const { body } = await call<{ runId: string }>(api("/requests"), {
      body: { amount: 640, requester: "ada" },
    });
    const { runId } = body;
    expect((await call(api(`/requests/${runId}`))).body).toEqual({
      runId,
      status: "queued",
      error: null,
    });
    expect((await call(api(`/requests/${runId}/wait?timeoutMs=0`))).body).toEqual({
      runId,
      status: "queued",
      stopped: false,
    });
    const early = await call(api(`/requests/${runId}/answer`), { body: { approve: "yes" } });
    expect(early).toMatchObject({ status: 409, body: { error: { code: "RUN_NOT_STARTED" } } });

    workers = await startService([...shared, "--role", "worker", "--workers", "1"]);
    expect(workers.url).toBe("");
    expect(workers.workerPids).toHaveLength(1);

    const waiting = await call(api(`/requests/${runId}/wait?timeoutMs=60000`));
    expect(waiting.body).toMatchObject({ status: "waiting_for_input", stopped: true });
    await call(api(`/requests/${runId}/answer`), { body: { approve: "yes" } });
    const done = await call(api(`/requests/${runId}/wait?timeoutMs=60000`));
    expect(done.body).toMatchObject({ status: "completed", stopped: true });
    expect(trail(await allSteps(target.storage, runId)).at(-1)).toBe("notify:completed");
    expect(fakes.deliveries.map((d) => d.idempotencyKey)).toContain(`${WORKFLOW}/${runId}/5`);
  });

  it("ends a workers-only process with an error when its last worker dies", async () => {
    const pid = workers?.workerPids[0] ?? 0;
    process.kill(pid, "SIGKILL");
    const fixture = workers?.fixture;
    if (!fixture) throw new Error("the worker process did not start");
    await waitForLine(fixture, /^approval-service: worker 1 exited \(SIGKILL\)/);
    expect(await fixture.exited).toEqual({ code: 1, signal: null });
    expect(alive(pid)).toBe(false);
  });
});
