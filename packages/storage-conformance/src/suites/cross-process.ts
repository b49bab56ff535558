/**
 * Invariants 1 and 2 across processes: a store that serialises appends with a
 * lock inside one process passes every in-process race, and still loses steps
 * when two processes append at once. These tests start child processes that
 * load the adapter's factory module (the `module` option; the bin gives it),
 * line them up on an IPC barrier and release them together, and kill one
 * between two appends. They run for stores that declare `persistent`.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ChildGroup, type StoreChild } from "../child-processes.js";
import type { ChildReply } from "../cross-process-child.js";
import type { Harness } from "../harness.js";
import { collectPages, sampleStep, seedRun } from "../records.js";

const RACERS = 4;
const ROUNDS = 5;

export function crossProcessSuite(h: Harness): void {
  describe("appends from several processes (invariants 1 and 2, capability: persistent)", () => {
    const children = new ChildGroup();
    // Passing or failing, no child outlives its test.
    afterEach(() => children.killAll());

    /** Why the tests cannot run here, or undefined when they can. */
    async function skipReason(): Promise<string | undefined> {
      if (!(await h.capabilities()).persistent) {
        return "the store does not declare `persistent`: no other process sees its data";
      }
      if (h.module === undefined) {
        return "no factory module to load in child processes: pass `module` to defineStorageConformance (the wf-conformance bin passes it)";
      }
      if (/\.[cm]?ts$/.test(new URL(h.module, "file:///").pathname)) {
        return "the factory module is TypeScript, which Node 20 does not load outside vitest: compile it to JavaScript to run the cross-process tests";
      }
      return undefined;
    }

    async function ready(child: StoreChild): Promise<StoreChild> {
      const reply = await child.next();
      expect(reply.type, `child ${child.label} did not report ready`).toBe("ready");
      return child;
    }

    it(`${RACERS} processes racing for each step, ${ROUNDS} rounds: exactly one acknowledges each step`, async (context) => {
      const reason = await skipReason();
      if (reason) return context.skip(reason);
      const store = await h.open();
      const workflowId = h.workflowId("cross-process-race");
      const runId = await seedRun(store, workflowId, 0);
      const racers = await Promise.all(
        Array.from({ length: RACERS }, (_, i) =>
          ready(
            children.start(`#${i}`, {
              module: h.module as string,
              workflowId,
              runId,
              env: { WF_CONFORMANCE_RACERS: String(RACERS) },
            }),
          ),
        ),
      );
      const winners: number[] = [];
      for (let step = 1; step <= ROUNDS; step++) {
        const attempts = racers.map((_, writer) =>
          sampleStep(workflowId, runId, step, { shared: { step, writer } }),
        );
        // Every child is idle, waiting on its IPC channel: this releases them together.
        racers.forEach((child, writer) => {
          child.send({ type: "append", record: attempts[writer] as (typeof attempts)[number] });
        });
        const replies: ChildReply[] = await Promise.all(racers.map((child) => child.next()));
        const acknowledged = replies.flatMap((reply, writer) =>
          reply.type === "appended" ? [writer] : [],
        );
        if (acknowledged.length > 1) {
          const names = acknowledged.map((writer) => `#${writer}`);
          const who = `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
          expect.fail(
            `${acknowledged.length === 2 ? "two processes both" : `${acknowledged.length} processes all`} acknowledged step ${step} (children ${who}): the append is conditional within one process but not across processes (a per-process lock?)`,
          );
        }
        expect(acknowledged, `no process acknowledged step ${step}`).toHaveLength(1);
        for (const reply of replies) {
          if (reply.type === "refused") {
            expect(reply.code, `a losing append of step ${step}: ${reply.message}`).toBe(
              "STEP_CONFLICT",
            );
          }
        }
        winners.push(acknowledged[0] as number);
      }
      // What is stored: every step once, no gap, each the record its one winner wrote.
      const stored = await collectPages((cursor) => store.listSteps(workflowId, runId, { cursor }));
      expect(stored.map((record) => record.step)).toEqual(
        Array.from({ length: ROUNDS + 1 }, (_, i) => i),
      );
      for (let step = 1; step <= ROUNDS; step++) {
        expect(stored[step]?.shared, `step ${step}`).toEqual({ step, writer: winners[step - 1] });
      }
      expect((await store.getRun(workflowId, runId)).headStep).toBe(ROUNDS);
    });

    it("a process killed between two appends leaves a run another process reads and appends to, with exactly the acknowledged steps", async (context) => {
      const reason = await skipReason();
      if (reason) return context.skip(reason);
      const store = await h.open();
      const workflowId = h.workflowId("cross-process-kill");
      const runId = await seedRun(store, workflowId, 0);
      const options = { module: h.module as string, workflowId, runId };

      const doomed = await ready(children.start("killed", options));
      const acknowledged = [sampleStep(workflowId, runId, 0)];
      for (let step = 1; step <= 3; step++) {
        const record = sampleStep(workflowId, runId, step, { shared: { by: "killed", step } });
        expect(await doomed.ask({ type: "append", record })).toEqual({ type: "appended", step });
        acknowledged.push(record);
      }
      // It has answered its third append and waits for a fourth: killed between two writes.
      expect(await doomed.kill()).toBe("SIGKILL");

      const survivor = await ready(children.start("survivor", options));
      const read = await survivor.ask({ type: "read", workflowId, runId });
      expect(read.type).toBe("read");
      if (read.type !== "read") return;
      expect(read.run.headStep).toBe(3);
      expect(read.steps).toEqual(acknowledged);
      const next = sampleStep(workflowId, runId, 4, { shared: { by: "survivor", step: 4 } });
      expect(await survivor.ask({ type: "append", record: next })).toEqual({
        type: "appended",
        step: 4,
      });
      // And this process sees the same, from the store it opened before any of it.
      const stored = await collectPages((cursor) => store.listSteps(workflowId, runId, { cursor }));
      expect(stored).toEqual([...acknowledged, next]);
      expect((await store.getRun(workflowId, runId)).headStep).toBe(4);
    });
  });
}
