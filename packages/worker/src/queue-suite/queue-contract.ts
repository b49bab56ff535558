// The queue contract, on the binding's real server: dedupe per key while a
// job is pending or active, delays, bounded concurrency, dead-lettering with
// a message, redelivery of a job whose handler crashed, and a close that
// finishes the jobs in progress and leaves the rest queued.
import { afterEach, describe, expect, it } from "vitest";
import type { Consumer, LeasedJob, RunJob, RunQueue } from "../queue.js";
import { jobKey } from "../queue.js";
import { deferred, uniqueId, until } from "./waiting.js";

export interface QueueSuiteOptions {
  /** Names the binding in test titles. */
  name: string;
  /** A fresh queue no other test uses (its own queue name), on the real server. */
  create(): Promise<RunQueue>;
}

export function queueContractSuite(options: QueueSuiteOptions): void {
  describe(`queue contract: ${options.name}`, () => {
    const open: { queue: RunQueue; consumers: Consumer[] }[] = [];
    const fresh = async () => {
      const entry = { queue: await options.create(), consumers: [] as Consumer[] };
      open.push(entry);
      return entry;
    };
    afterEach(async () => {
      for (const { queue, consumers } of open.splice(0)) {
        for (const consumer of consumers) await consumer.close();
        await queue.close();
      }
    });
    const job = (workflowId: string, atStep = 0, extra: Partial<RunJob> = {}): RunJob => ({
      workflowId,
      runId: "r1",
      atStep,
      ...extra,
    });

    it("delivers an enqueued job with its data, and it is done afterwards", async () => {
      const { queue, consumers } = await fresh();
      const sent = job(uniqueId("deliver"), 3, { answers: { ok: "yes" } });
      await queue.enqueue(sent);
      expect((await queue.jobState(jobKey(sent))).state).toBe("pending");
      const seen: LeasedJob[] = [];
      consumers.push(
        await queue.consume({
          concurrency: 1,
          handler: async (leased) => {
            seen.push(leased);
            return { kind: "done" };
          },
        }),
      );
      await until("the job to be handled", async () =>
        ["done", "absent"].includes((await queue.jobState(jobKey(sent))).state),
      );
      expect(seen).toEqual([{ key: jobKey(sent), data: sent }]);
    });

    it("a second enqueue of a pending key is a no-op", async () => {
      const { queue, consumers } = await fresh();
      const workflowId = uniqueId("dedupe");
      await queue.enqueue(job(workflowId, 0, { answers: { first: 1 } }));
      await queue.enqueue(job(workflowId, 0, { answers: { second: 2 } }));
      const seen: RunJob[] = [];
      consumers.push(
        await queue.consume({
          concurrency: 1,
          handler: async (leased) => {
            seen.push(leased.data);
            return { kind: "done" };
          },
        }),
      );
      // One slot takes jobs in order: a second job of key 0 would come before the marker.
      const marker = job(workflowId, 1);
      await queue.enqueue(marker);
      await until("the marker job", () => seen.some((data) => data.atStep === 1));
      expect(seen.filter((data) => data.atStep === 0)).toEqual([
        job(workflowId, 0, { answers: { first: 1 } }),
      ]);
    });

    it("a second enqueue of an active key is a no-op", async () => {
      const { queue, consumers } = await fresh();
      const workflowId = uniqueId("active");
      const entered = deferred();
      const release = deferred();
      let handled = 0;
      consumers.push(
        await queue.consume({
          concurrency: 2,
          handler: async (leased) => {
            handled += leased.data.atStep === 0 ? 1 : 0;
            if (leased.data.atStep === 0) {
              entered.resolve();
              await release.promise;
            }
            return { kind: "done" };
          },
        }),
      );
      await queue.enqueue(job(workflowId));
      await entered.promise;
      expect((await queue.jobState(jobKey(job(workflowId)))).state).toBe("active");
      await queue.enqueue(job(workflowId));
      release.resolve();
      const marker = job(workflowId, 1);
      await queue.enqueue(marker);
      await until("the first job to finish", async () =>
        ["done", "absent"].includes((await queue.jobState(jobKey(job(workflowId)))).state),
      );
      await until("the marker job", async () =>
        ["done", "absent"].includes((await queue.jobState(jobKey(marker))).state),
      );
      expect(handled).toBe(1);
    });

    it("a job delayed by an hour stays pending while later jobs and a short delay's are delivered", async () => {
      const { queue, consumers } = await fresh();
      const workflowId = uniqueId("delay");
      const seen: number[] = [];
      consumers.push(
        await queue.consume({
          concurrency: 1,
          handler: async (leased) => {
            seen.push(leased.data.atStep);
            return { kind: "done" };
          },
        }),
      );
      await queue.enqueue(job(workflowId, 0), { delayMs: 3_600_000 });
      await queue.enqueue(job(workflowId, 1), { delayMs: 300 });
      await queue.enqueue(job(workflowId, 2));
      await until(
        "the short delay's job and the undelayed one",
        () => seen.includes(1) && seen.includes(2),
      );
      expect(seen).not.toContain(0);
      expect((await queue.jobState(jobKey(job(workflowId, 0)))).state).toBe("pending");
    });

    it("never runs more jobs at once than the consumer's concurrency", async () => {
      const { queue, consumers } = await fresh();
      const workflowId = uniqueId("bound");
      let active = 0;
      let most = 0;
      let done = 0;
      const gates: (() => void)[] = [];
      consumers.push(
        await queue.consume({
          concurrency: 2,
          handler: async () => {
            active += 1;
            most = Math.max(most, active);
            await new Promise<void>((resolve) => gates.push(resolve));
            active -= 1;
            done += 1;
            return { kind: "done" };
          },
        }),
      );
      for (let step = 0; step < 6; step++) await queue.enqueue(job(workflowId, step));
      // Let jobs go one at a time, only while two are held: a consumer over its bound would hold three.
      for (let released = 0; released < 6; released++) {
        await until(
          "two jobs held, or the last one",
          () => gates.length >= Math.min(2, 6 - released),
        );
        gates.shift()?.();
        await until("the released job to finish", () => done > released);
      }
      expect(most).toBe(2);
    });

    it("a dead outcome leaves the job dead with its message, not retried", async () => {
      const { queue, consumers } = await fresh();
      const dead = job(uniqueId("dead"));
      let calls = 0;
      consumers.push(
        await queue.consume({
          concurrency: 1,
          handler: async () => {
            calls += 1;
            return { kind: "dead", message: "Cannot resume: node x changed type" };
          },
        }),
      );
      await queue.enqueue(dead);
      await until(
        "the job to be dead",
        async () => (await queue.jobState(jobKey(dead))).state === "dead",
      );
      expect(await queue.jobState(jobKey(dead))).toEqual({
        state: "dead",
        message: "Cannot resume: node x changed type",
      });
      // Enqueueing the dead key again does not bring it back.
      await queue.enqueue(dead);
      expect((await queue.jobState(jobKey(dead))).state).toBe("dead");
      expect(calls).toBe(1);
    });

    it("a job whose handler crashed (rejected) is delivered again", async () => {
      const { queue, consumers } = await fresh();
      const crashed = job(uniqueId("crash"));
      let calls = 0;
      consumers.push(
        await queue.consume({
          concurrency: 1,
          handler: async () => {
            calls += 1;
            if (calls === 1) throw new Error("crash in the middle of a step");
            return { kind: "done" };
          },
        }),
      );
      await queue.enqueue(crashed);
      await until("the second delivery", () => calls >= 2);
      await until("the job to be done", async () =>
        ["done", "absent"].includes((await queue.jobState(jobKey(crashed))).state),
      );
      expect(calls).toBe(2);
    });

    it("close() finishes the job in progress and leaves the others queued for the next consumer", async () => {
      const { queue } = await fresh();
      const workflowId = uniqueId("close");
      const entered = deferred();
      const release = deferred();
      const seen: number[] = [];
      const first = await queue.consume({
        concurrency: 1,
        handler: async (leased) => {
          seen.push(leased.data.atStep);
          entered.resolve();
          await release.promise;
          return { kind: "done" };
        },
      });
      await queue.enqueue(job(workflowId, 0));
      await entered.promise;
      await queue.enqueue(job(workflowId, 1));
      const closing = first.close();
      release.resolve();
      await closing;
      expect(seen).toEqual([0]);
      expect(["done", "absent"]).toContain(
        (await queue.jobState(jobKey(job(workflowId, 0)))).state,
      );
      expect((await queue.jobState(jobKey(job(workflowId, 1)))).state).toBe("pending");
      const later: number[] = [];
      const second = await queue.consume({
        concurrency: 1,
        handler: async (leased) => {
          later.push(leased.data.atStep);
          return { kind: "done" };
        },
      });
      open.at(-1)?.consumers.push(second);
      await until("the handed-back job", () => later.includes(1));
      expect(later).toEqual([1]);
    });

    it("close() of the queue is idempotent", async () => {
      const queue = await options.create();
      await queue.close();
      await queue.close();
    });
  });
}
