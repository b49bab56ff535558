// The worker and client on the binding's real server and a real store: runs
// started, answered and waited for through the queue; idempotency keys;
// retries through delayed jobs; dead-lettered jobs surfaced by wait; a
// graceful close under load; the recovery sweep. Each test asserts what the
// journal holds, not only what the calls returned.
import { Node, type StepRecord, WorkflowEngine, type WorkflowStorage } from "@wf/core";
import { afterEach, describe, expect, it } from "vitest";
import { WorkflowClient } from "../client.js";
import { overriding } from "../delegate.js";
import type { RunQueue } from "../queue.js";
import { Worker, type WorkerOptions } from "../worker.js";
import { deferred, uniqueId, until } from "./waiting.js";
import { Ask, Blocking, chain, Flaky, Visit } from "./workflows.js";

export interface WorkerScenarioOptions {
  name: string;
  /** A fresh queue no other test uses, on the real server. */
  createQueue(): Promise<RunQueue>;
  /** A store on the real server (tests use unique workflow ids). */
  createStorage(): Promise<WorkflowStorage>;
}

/** Every stored record of a run, ascending. */
export async function storedSteps(
  storage: WorkflowStorage,
  workflowId: string,
  runId: string,
): Promise<StepRecord[]> {
  const steps: StepRecord[] = [];
  let cursor: string | null = null;
  do {
    const page = await storage.listSteps(workflowId, runId, { cursor, limit: 1000 });
    steps.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return steps;
}

export function workerScenariosSuite(options: WorkerScenarioOptions): void {
  describe(`worker scenarios: ${options.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });
    const setup = async () => {
      const storage = await options.createStorage();
      const queue = await options.createQueue();
      cleanups.push(() => storage.close());
      cleanups.push(() => queue.close());
      const client = new WorkflowClient({ storage, queue, pollIntervalMs: 20 });
      const worker = async (extra: Partial<WorkerOptions> & Pick<WorkerOptions, "workflows">) => {
        const started = new Worker({ storage, queue, concurrency: 4, ...extra });
        await started.start();
        cleanups.push(() => started.close());
        return started;
      };
      return { storage, queue, client, worker };
    };

    it("a started run completes through the queue, each step journalled once", async () => {
      const { storage, client, worker } = await setup();
      const workflow = chain(uniqueId("chain"), 7);
      const logged: { level: string; fields: object; message?: string }[] = [];
      const record = (level: string) => (fields: object, message?: string) =>
        logged.push({ level, fields, message });
      const logger = {
        debug: record("debug"),
        info: record("info"),
        warn: record("warn"),
        error: record("error"),
      };
      const started = await worker({ workflows: [workflow], stepsPerJob: 3, logger });
      const appended: number[] = [];
      started.on("stepAppended", ({ step }) => appended.push(step));
      const { runId } = await client.start(workflow.workflowId, { initialState: { n: 1 } });
      expect(await client.wait(workflow.workflowId, runId)).toBe("completed");
      // The journal can read completed before the worker has reported its last append.
      await until(
        "the worker reported every append and the completion",
        () => appended.length >= 7 && logged.some((entry) => entry.message === "run completed"),
      );
      expect(appended).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(logged).toContainEqual({
        level: "info",
        fields: { workflowId: workflow.workflowId, runId, step: 7 },
        message: "run completed",
      });
      const steps = await storedSteps(storage, workflow.workflowId, runId);
      expect(steps.map((record) => record.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(steps.at(-1)?.shared).toEqual({
        n: 1,
        visited: ["a0", "a1", "a2", "a3", "a4", "a5", "a6"],
      });
    });

    it("two starts with one idempotencyKey give one run", async () => {
      const { storage, client, worker } = await setup();
      const workflow = chain(uniqueId("idem"), 2);
      const first = await client.start(workflow.workflowId, { idempotencyKey: "order-42" });
      const second = await client.start(workflow.workflowId, { idempotencyKey: "order-42" });
      expect(second.runId).toBe(first.runId);
      await worker({ workflows: [workflow] });
      expect(await client.wait(workflow.workflowId, first.runId)).toBe("completed");
      // Once more after the run completed: still the same run, nothing appended.
      const third = await client.start(workflow.workflowId, { idempotencyKey: "order-42" });
      expect(third.runId).toBe(first.runId);
      expect(await client.wait(workflow.workflowId, third.runId)).toBe("completed");
      const runs = await storage.listRuns(workflow.workflowId);
      expect(runs.items.map((run) => run.runId)).toEqual([first.runId]);
      expect((await storedSteps(storage, workflow.workflowId, first.runId)).length).toBe(3);
    });

    it("a waiting run holds no job; answer() enqueues it and the consuming step journals the answer", async () => {
      const { storage, queue, client, worker } = await setup();
      const workflowId = uniqueId("ask");
      const workflow = {
        workflowId,
        nodes: [new Ask({ id: "ask" }), new Visit("after")],
        edges: [{ from: "ask", to: "after" }],
      };
      await worker({ workflows: [workflow] });
      const { runId } = await client.start(workflowId);
      expect(await client.wait(workflowId, runId)).toBe("waiting_for_input");
      const waiting = await storage.getRun(workflowId, runId);
      expect((await queue.jobState(`${workflowId}/${runId}/${waiting.headStep}`)).state).toBe(
        "absent",
      );
      await client.answer(workflowId, runId, { ask: "yes" });
      expect(await client.wait(workflowId, runId)).toBe("completed");
      const steps = await storedSteps(storage, workflowId, runId);
      expect(steps.map((record) => record.status)).toEqual([
        "running",
        "waiting_for_input",
        "running",
        "completed",
      ]);
      expect(steps[2]?.inputs).toEqual({ ask: "yes" });
      expect(steps.at(-1)?.shared).toEqual({ approved: "yes", visited: ["after"] });
    });

    it("a failing node is retried through delayed jobs with backoff, each failure journalled", async () => {
      const { storage, client, worker } = await setup();
      const workflowId = uniqueId("retry");
      const flaky = new Flaky(2, { maxRetries: 3, retryDelayMs: 40 });
      const scheduled: { attempt: number; delayMs: number }[] = [];
      const started = await worker({ workflows: [{ workflowId, nodes: [flaky] }] });
      started.on("retryScheduled", ({ attempt, delayMs }) => scheduled.push({ attempt, delayMs }));
      const { runId } = await client.start(workflowId, { initialState: { runKey: "k" } });
      expect(await client.wait(workflowId, runId)).toBe("completed");
      // The engine saw no in-process retries: every failed attempt is a step of its own.
      const steps = await storedSteps(storage, workflowId, runId);
      expect(steps.map((record) => record.status)).toEqual([
        "running",
        "failed",
        "failed",
        "completed",
      ]);
      expect(scheduled).toEqual([
        { attempt: 1, delayMs: 40 },
        { attempt: 2, delayMs: 80 },
      ]);
      expect(flaky.fallbacks).toBe(0);
      // Each failure says when its retry runs, so the run reads failed until then, not for good:
      // at least the delay after the step before it began, and no later than the retry's own step.
      for (const [index, delayMs] of [
        [1, 40],
        [2, 80],
      ] as const) {
        const retryAt = Date.parse(steps[index]?.error?.retryAt ?? "");
        expect(retryAt).toBeGreaterThanOrEqual(
          Date.parse(steps[index - 1]?.createdAt ?? "") + delayMs,
        );
        expect(retryAt).toBeLessThanOrEqual(Date.parse(steps[index + 1]?.createdAt ?? ""));
      }
    });

    it("a retry delivered before its failure is journalled waits for it, and the run completes", async () => {
      const { storage: real, queue, client } = await setup();
      const workflowId = uniqueId("early-retry");
      const flaky = new Flaky(2, { maxRetries: 3, retryDelayMs: 0 });
      // The first failure's append is held until the retry job, delivered at once, has read
      // the run twice, so the retry surely starts while the failure is not yet journalled.
      const held = deferred();
      let failedAppends = 0;
      let readsWhileHeld = 0;
      const storage = overriding(real, {
        appendStep: async (record: StepRecord) => {
          if (record.status === "failed") {
            failedAppends += 1;
            if (failedAppends === 1) await held.promise;
            else held.resolve();
          }
          return real.appendStep(record);
        },
        getRun: async (workflowId: string, runId: string) => {
          const run = await real.getRun(workflowId, runId);
          if (failedAppends === 1 && ++readsWhileHeld >= 2) held.resolve();
          return run;
        },
      });
      // Two slots, so the retry is taken while the first job is held; no watch reads.
      const started = new Worker({
        storage,
        queue,
        workflows: [{ workflowId, nodes: [flaky] }],
        concurrency: 2,
        watchIntervalMs: 600_000,
      });
      await started.start();
      try {
        const { runId } = await client.start(workflowId, { initialState: { runKey: "k" } });
        expect(await client.wait(workflowId, runId)).toBe("completed");
        const steps = await storedSteps(real, workflowId, runId);
        expect(steps.map((record) => record.status)).toEqual([
          "running",
          "failed",
          "failed",
          "completed",
        ]);
        expect(flaky.attempts.get("k")).toBe(3);
      } finally {
        await started.close();
      }
    });

    it("a node out of retries leaves the run failed and wait() reports failed", async () => {
      const { storage, client, worker } = await setup();
      const workflowId = uniqueId("exhausted");
      const flaky = new Flaky(99, { maxRetries: 1, retryDelayMs: 10 });
      await worker({ workflows: [{ workflowId, nodes: [flaky] }] });
      const { runId } = await client.start(workflowId, { initialState: { runKey: "k" } });
      expect(await client.wait(workflowId, runId)).toBe("failed");
      const steps = await storedSteps(storage, workflowId, runId);
      expect(steps.map((record) => record.status)).toEqual(["running", "failed", "failed"]);
      expect(steps.at(-1)?.error?.message).toBe("attempt 2 failed");
      // The first failure had a retry coming; the last has none.
      expect(steps[1]?.error?.retryAt).toEqual(expect.any(String));
      expect(steps.at(-1)?.error).not.toHaveProperty("retryAt");
      expect(flaky.fallbacks).toBe(1);
    });

    it("a worker without the workflow dead-letters the job, and wait() says why", async () => {
      const { storage, client, worker } = await setup();
      const workflowId = uniqueId("unknown");
      await worker({ workflows: [chain(uniqueId("other"), 1)] });
      const { runId } = await client.start(workflowId);
      await expect(client.wait(workflowId, runId)).rejects.toMatchObject({
        code: "JOB_DEAD_LETTERED",
        message: expect.stringContaining(`has no workflow "${workflowId}"`),
      });
      expect((await storage.listRuns(workflowId)).items).toEqual([]);
    });

    it("a changed definition dead-letters the job with `Cannot resume:`, surfaced by wait()", async () => {
      const { storage, client, worker } = await setup();
      const workflowId = uniqueId("changed");
      const before = {
        workflowId,
        nodes: [new Ask({ id: "ask" }), new Visit("after")],
        edges: [{ from: "ask", to: "after" }],
      };
      const old = await worker({ workflows: [before] });
      const { runId } = await client.start(workflowId);
      expect(await client.wait(workflowId, runId)).toBe("waiting_for_input");
      await old.close();
      class Renamed extends Node {}
      const after = {
        workflowId,
        nodes: [new Renamed({ id: "ask" }), new Visit("after")],
        edges: [{ from: "ask", to: "after" }],
      };
      await worker({ workflows: [after] });
      await client.answer(workflowId, runId, { ask: "yes" });
      const error = await client.wait(workflowId, runId).catch((caught: Error) => caught);
      expect(error).toMatchObject({ code: "JOB_DEAD_LETTERED" });
      expect((error as Error).message).toContain("Cannot resume:");
      expect((await storage.getRun(workflowId, runId)).headStep).toBe(1);
    });

    it("close() under load loses nothing and runs nothing twice", async () => {
      const { storage, client, worker } = await setup();
      const executions = new Map<string, number>();
      const workflow = chain(uniqueId("load"), 6, executions);
      const first = await worker({ workflows: [workflow], stepsPerJob: 2 });
      let appended = 0;
      first.on("stepAppended", () => {
        appended += 1;
      });
      const runIds: string[] = [];
      for (let index = 0; index < 20; index++) {
        const { runId } = await client.start(workflow.workflowId, {
          initialState: { runKey: index },
        });
        runIds.push(runId);
      }
      await until("some steps appended", () => appended >= 20);
      await first.close();
      await worker({ workflows: [workflow], stepsPerJob: 2 });
      for (const runId of runIds) {
        expect(await client.wait(workflow.workflowId, runId)).toBe("completed");
        const steps = await storedSteps(storage, workflow.workflowId, runId);
        expect(steps.map((record) => record.step)).toEqual([0, 1, 2, 3, 4, 5, 6]);
      }
      expect([...executions.values()].every((count) => count === 1)).toBe(true);
      expect(executions.size).toBe(20 * 6);
    });

    it("cancel during a long node fires its signal, the journal ends cancelled, and wait() says so", async () => {
      const { storage, queue, client, worker } = await setup();
      const workflowId = uniqueId("cancel");
      const slow = new Blocking("slow");
      const workflow = {
        workflowId,
        nodes: [new Visit("before"), slow, new Visit("after")],
        edges: [
          { from: "before", to: "slow" },
          { from: "slow", to: "after" },
        ],
      };
      const started = await worker({ workflows: [workflow], watchIntervalMs: 20 });
      const cancelled: number[] = [];
      started.on("cancelled", ({ step }) => cancelled.push(step));
      const { runId } = await client.start(workflowId);
      await until("the slow node started", () => slow.started.length === 1);
      expect(slow.started[0]).toMatchObject({
        workflowId,
        runId,
        step: 2,
        attempt: 0,
        idempotencyKey: `${workflowId}/${runId}/2`,
      });
      await expect(client.cancel(workflowId, runId, { reason: "customer withdrew" })).resolves.toBe(
        true,
      );
      expect(await client.wait(workflowId, runId)).toBe("cancelled");
      await until("the node's signal fired", () => slow.aborted.length === 1);
      expect(slow.aborted[0]).toEqual({ step: 2, reason: "the run was cancelled" });
      await until("the worker reported the cancel", () => cancelled.length === 1);
      expect(cancelled).toEqual([2]);
      const steps = await storedSteps(storage, workflowId, runId);
      expect(steps.map((record) => record.status)).toEqual(["running", "running", "cancelled"]);
      expect(steps[2]?.error).toMatchObject({ code: "CANCELLED", message: "customer withdrew" });
      expect(steps[2]?.shared).toEqual({ visited: ["before"] });
      await expect(client.cancel(workflowId, runId)).resolves.toBe(false);
      // The job that ran the node is done and nothing new was queued for the run.
      for (const atStep of [1, 2]) {
        const state = (await queue.jobState(`${workflowId}/${runId}/${atStep}`)).state;
        expect(["done", "absent"]).toContain(state);
      }
    });

    it("cancel right after start waits for the worker to create the run, then cancels it", async () => {
      const { storage, client, worker } = await setup();
      const workflowId = uniqueId("cancel-early");
      const slow = new Blocking("slow");
      const workflow = { workflowId, nodes: [slow] };
      const { runId } = await client.start(workflowId);
      const cancelling = client.cancel(workflowId, runId);
      await worker({ workflows: [workflow], watchIntervalMs: 20 });
      await expect(cancelling).resolves.toBe(true);
      expect(await client.wait(workflowId, runId)).toBe("cancelled");
      const steps = await storedSteps(storage, workflowId, runId);
      expect(steps.at(-1)?.status).toBe("cancelled");
      expect(steps.filter((record) => record.status === "cancelled").length).toBe(1);
    });

    it("close() past its timeout fires the node's signal, journals nothing of it, and hands the job back", async () => {
      const { storage, client, worker } = await setup();
      const workflowId = uniqueId("close-timeout");
      const slow = new Blocking("slow");
      const workflow = {
        workflowId,
        nodes: [new Visit("before"), slow],
        edges: [{ from: "before", to: "slow" }],
      };
      const first = await worker({ workflows: [workflow], stepsPerJob: 5 });
      const { runId } = await client.start(workflowId);
      await until("the slow node started", () => slow.started.length === 1);
      await first.close({ timeoutMs: 50 });
      expect(slow.aborted).toEqual([
        {
          step: 2,
          reason: "the worker is closing and the step ran past its close timeout",
        },
      ]);
      expect((await storage.getRun(workflowId, runId)).headStep).toBe(1);
      await worker({ workflows: [workflow] });
      expect(await client.wait(workflowId, runId, { timeoutMs: 120_000 })).toBe("completed");
      const steps = await storedSteps(storage, workflowId, runId);
      expect(steps.map((record) => record.step)).toEqual([0, 1, 2]);
      expect(steps[2]?.shared).toEqual({ visited: ["before"], slow: "quick" });
    });

    it("sweep() enqueues a running run that has no job", async () => {
      const { storage, client, worker } = await setup();
      const workflow = chain(uniqueId("sweep"), 3);
      // A run created outside the queue (or whose enqueue was lost): runnable, no job.
      const engine = await WorkflowEngine.create({ ...workflow, storage });
      const started = await worker({ workflows: [workflow] });
      expect(await started.sweep()).toBe(1);
      expect(await client.wait(workflow.workflowId, engine.runId)).toBe("completed");
      expect((await storedSteps(storage, workflow.workflowId, engine.runId)).length).toBe(4);
    });
  });
}
