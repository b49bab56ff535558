/**
 * Human input across restarts: a wait is journalled, answerable from a later
 * process; a node that asks twice gets both answers back after a restart;
 * an answer is consumed once.
 */
import { WorkflowEngine } from "@wf/core";
import { describe, expect, it } from "vitest";
import { type Harness, snapshotRun } from "../harness.js";
import { reviewLoop } from "../workflows.js";

export function inputSuite(h: Harness): void {
  describe("human input across restarts", () => {
    it("a wait survives a restart and the answers, given in two processes, both reach the node", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("input");
      const definition = { workflowId, ...reviewLoop() };
      const engine = await WorkflowEngine.create({ ...definition, storage: store });
      expect(await engine.run()).toBe("waiting_for_input");
      expect(engine.awaitingInput).toEqual({
        nodeId: "ask",
        requestId: "ask",
        prompt: "Your name?",
        options: null,
      });
      const waiting = await store.getLatestStep(workflowId, engine.runId);
      expect(waiting).toMatchObject({
        status: "waiting_for_input",
        awaitingInput: { requestId: "ask" },
      });

      let restarted = await h.restart(store);
      const second = await WorkflowEngine.create({
        ...definition,
        storage: restarted,
        runId: engine.runId,
      });
      expect(second.status).toBe("waiting_for_input");
      const before = await snapshotRun(restarted, workflowId, engine.runId);
      expect(await second.step()).toBe(false);
      await expect(second.step({ unrelated: 1 })).rejects.toMatchObject({
        code: "UNEXPECTED_INPUT",
        requestId: "ask",
      });
      expect(await snapshotRun(restarted, workflowId, engine.runId)).toBe(before);
      expect(await second.run({ ask: "Ada" })).toBe("waiting_for_input");
      expect(second.awaitingInput).toMatchObject({
        nodeId: "ask",
        requestId: "ask#2",
        prompt: "Your email?",
      });
      expect((await restarted.getLatestStep(workflowId, engine.runId)).inputs).toEqual({
        ask: "Ada",
      });

      restarted = await h.restart(restarted);
      const third = await WorkflowEngine.create({
        ...definition,
        storage: restarted,
        runId: engine.runId,
      });
      expect(await third.run({ "ask#2": "ada@example.com" })).toBe("waiting_for_input");
      expect(third.shared).toMatchObject({ name: "Ada", email: "ada@example.com" });
      const askRecord = (await third.history()).find(
        (r) => r.previousNodeId === "ask" && r.status === "running",
      );
      expect(askRecord?.inputs).toEqual({ ask: "Ada", "ask#2": "ada@example.com" });
    });

    it("a review loop asks again on each pass instead of reusing its first answer", async () => {
      const store = await h.open();
      const workflowId = h.workflowId("review-loop");
      const engine = await WorkflowEngine.create({ workflowId, ...reviewLoop(), storage: store });
      await engine.run({ ask: "Ada", "ask#2": "ada@example.com" });
      expect(engine.awaitingInput).toMatchObject({
        nodeId: "review",
        requestId: "review",
        options: ["yes", "no"],
      });
      expect(await engine.run({ review: "no" })).toBe("waiting_for_input");
      expect(engine.awaitingInput).toMatchObject({ nodeId: "review", requestId: "review" });
      expect(engine.shared).toMatchObject({ revisions: 1, reviews: 1, approved: false });
      const restarted = await h.restart(store);
      const resumed = await WorkflowEngine.create({
        workflowId,
        ...reviewLoop(),
        storage: restarted,
        runId: engine.runId,
      });
      expect(await resumed.run({ review: "yes" })).toBe("completed");
      expect(resumed.shared).toMatchObject({ reviews: 2, revisions: 1, approved: true });
      const waits = (await resumed.history()).filter((r) => r.status === "waiting_for_input");
      expect(waits.map((r) => r.awaitingInput?.requestId)).toEqual(["review", "review"]);
    });
  });
}
