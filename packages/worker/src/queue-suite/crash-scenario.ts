// Worker processes killed with SIGKILL in the middle of a step (inside a
// node, or between an append and its requeue). Victims take
// the runs first and block inside node a3; steady workers join; once every
// victim is inside that node and the steady ones are stepping, the victims
// are killed and replacements started. Some runs wait for input, which the
// test answers. Every run must complete, every step be stored exactly once on
// one timeline, and no job be left in the queue. The time from the kill until
// every run a victim held moved on is printed.
import type { RunStatus, WorkflowStorage } from "@wf/core";
import { describe, expect, it } from "vitest";
import { WorkflowClient } from "../client.js";
import type { RunQueue } from "../queue.js";
import type { CrashFixtureConfig } from "./fixture.js";
import { uniqueId, until } from "./waiting.js";
import { storedSteps } from "./worker-scenarios.js";

/** A worker process as the scenario drives it; `ChildFixture` of `@wf/test-services` is one. */
export interface WorkerProcess {
  readonly lines: string[];
  send(line: string): void;
  crash(): Promise<void>;
  finished(timeoutMs?: number): Promise<string[]>;
}

export interface CrashScenarioOptions {
  name: string;
  /** A queue under `queueName`, shared by the test and its worker processes. */
  createQueue(queueName: string): Promise<RunQueue>;
  createStorage(): Promise<WorkflowStorage>;
  /** Starts a worker process running `runCrashFixture(config, …)` on the queue `queueName`. */
  spawn(config: CrashFixtureConfig, queueName: string): WorkerProcess;
  /** Jobs of `queueName` in any state but done or dead (waiting, delayed, active). */
  leftoverJobs(queueName: string): Promise<number>;
  /** Default 40. */
  runs?: number;
  /** Steps per run (at least 6). Default 6. */
  steps?: number;
  /** Workers killed, workers that stay, and workers started after the kill. Default 2 each. */
  victims?: number;
  steady?: number;
  replacements?: number;
}

export function crashScenarioSuite(options: CrashScenarioOptions): void {
  const runs = options.runs ?? 40;
  const steps = Math.max(6, options.steps ?? 6);
  const victims = options.victims ?? 2;
  const steady = options.steady ?? 2;
  const replacements = options.replacements ?? 2;
  const outcome = `${replacements} started: ${runs} runs of ${steps} steps all complete, each step stored once, no job left`;
  describe(`worker processes killed mid-step: ${options.name}`, () => {
    it(
      `${victims} of ${victims + steady} workers SIGKILLed inside a node and ${outcome}`,
      { timeout: 600_000 },
      () => scenario("victim"),
    );
    it(
      `${victims} of ${victims + steady} workers SIGKILLed between an append and its requeue and ${outcome}`,
      { timeout: 600_000 },
      () => scenario("suicide"),
    );
  });

  async function scenario(doomedRole: "victim" | "suicide"): Promise<void> {
    const queueName = uniqueId("crash").replaceAll("-", "_");
    const workflowId = uniqueId("crash");
    const storage = await options.createStorage();
    const queue = await options.createQueue(queueName);
    const processes: WorkerProcess[] = [];
    const spawn = (role: CrashFixtureConfig["role"]) => {
      const config = {
        role,
        workflowId,
        steps,
        blockAt: 3,
        askAt: 5,
        concurrency: 4,
        stepsPerJob: 2,
      };
      const child = options.spawn(config, queueName);
      processes.push(child);
      return child;
    };
    const ready = (children: WorkerProcess[]) =>
      until(
        "workers to start",
        () => children.every((child) => child.lines.includes("ready")),
        60_000,
      );
    try {
      const doomed = Array.from({ length: victims }, () => spawn(doomedRole));
      await ready(doomed);
      const client = new WorkflowClient({ storage, queue, pollIntervalMs: 50 });
      const runIds: string[] = [];
      for (let index = 0; index < runs; index++) {
        const { runId } = await client.start(workflowId, { initialState: { runKey: index } });
        runIds.push(runId);
      }
      await until(
        "every victim to block inside a node, or kill itself after an append",
        () => doomed.every((child) => child.lines.some((line) => line.startsWith("blocked "))),
        120_000,
      );
      const stayers = Array.from({ length: steady }, () => spawn("survivor"));
      await ready(stayers);
      await until(
        "the steady workers to append steps",
        () => stayers.every((child) => child.lines.some((line) => line.startsWith("appended "))),
        120_000,
      );
      // (A suicide is gone already; crash() then only waits for its exit.)
      await Promise.all(doomed.map((child) => child.crash()));
      const killedAt = Date.now();
      const blocked = new Set(
        doomed.flatMap((child) =>
          child.lines
            .filter((line) => line.startsWith("blocked "))
            .map((line) => line.split(" ")[1]),
        ),
      );
      const rescuers = [
        ...stayers,
        ...Array.from({ length: replacements }, () => spawn("survivor")),
      ];

      const answered: string[] = [];
      for (const [index, runId] of runIds.entries()) {
        let status: RunStatus = await client.wait(workflowId, runId, { timeoutMs: 300_000 });
        if (status === "waiting_for_input") {
          await client.answer(workflowId, runId, { ok: `yes ${index}` });
          answered.push(runId);
          status = await client.wait(workflowId, runId, { timeoutMs: 300_000 });
        }
        expect(status).toBe("completed");
      }
      expect(answered.length).toBe(Math.ceil(runs / 4));
      for (const [index, runId] of runIds.entries()) {
        const stored = await storedSteps(storage, workflowId, runId);
        const asks = index % 4 === 0;
        const length = steps + (asks ? 1 : 0);
        expect(stored.map((record) => record.step)).toEqual(
          Array.from({ length: length + 1 }, (_, step) => step),
        );
        expect(stored.map((record) => record.parent)).toEqual([
          null,
          ...Array.from({ length }, (_, step) => step),
        ]);
        const completedNodes = stored
          .filter((record) => record.status !== "waiting_for_input")
          .slice(1);
        expect(completedNodes.map((record) => record.previousNodeId)).toEqual(
          Array.from({ length: steps }, (_, node) => `a${node}`),
        );
        expect(stored.some((record) => record.status === "failed")).toBe(false);
        if (asks) expect(stored.at(-1)?.shared).toMatchObject({ answer: `yes ${index}` });
      }
      await until(
        "no job left in the queue",
        async () => (await options.leftoverJobs(queueName)) === 0,
        60_000,
      );

      // How long the runs the victims held took to move on after the kill.
      const pending = new Map<string, string>();
      for (const runId of runIds) {
        const first = await storage.getStep(workflowId, runId, 0);
        // Victims name the run by its runKey, suicides by its run id.
        const key = String((first.shared as { runKey: number }).runKey);
        if (blocked.has(key) || blocked.has(runId)) pending.set(runId, key);
      }
      // Every rescuer started after the doomed workers held their runs, so any
      // append of such a run by a rescuer means it moved on. That can come
      // before the kill: a suicide is dead before the test kills anything, and
      // a queue without lease renewal (pg-boss) hands a blocked job on when its
      // lease runs out. Only the appends after the kill are timed.
      let slowest = 0;
      for (const child of rescuers) {
        for (const line of child.lines) {
          const [kind, runId, , at] = line.split(" ");
          if (kind === "appended" && runId && pending.has(runId)) {
            if (Number(at) >= killedAt) slowest = Math.max(slowest, Number(at) - killedAt);
            pending.delete(runId);
          }
        }
      }
      expect(pending.size).toBe(0);
      const appended = rescuers.reduce(
        (sum, child) => sum + child.lines.filter((line) => line.startsWith("appended ")).length,
        0,
      );
      console.log(
        `${options.name} (${doomedRole}): ${blocked.size} runs held by the killed workers moved on within ${slowest} ms of the SIGKILL; all ${runs} runs done ${Date.now() - killedAt} ms after it (${appended} steps appended by the survivors)`,
      );
      for (const child of rescuers) child.send("close");
      await Promise.all(rescuers.map((child) => child.finished(60_000)));
    } finally {
      await Promise.all(processes.map((child) => child.crash().catch(() => {})));
      await queue.close();
      await storage.close();
    }
  }
}
