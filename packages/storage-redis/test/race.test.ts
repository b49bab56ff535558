// Conditional append across processes: two processes with eight engines each
// advance one run to completion; every step exists once, with no gap.
import { randomBytes } from "node:crypto";
import { Node, type SharedState, WorkflowEngine } from "@wf/core";
import { describe, expect, it } from "vitest";
import { RedisStorage } from "../src/index.js";
import { Fixture, redisUrl, uniquePrefix } from "./helpers.js";

const TARGET = 60;

class Tick extends Node {
  override cleanup(shared: SharedState): void {
    shared.count = (shared.count as number) + 1;
  }
}

describe("engines racing on one run from two processes", () => {
  it(`two processes with eight engines each advance a run to ${TARGET} steps, each step appended exactly once`, async () => {
    const url = redisUrl();
    const prefix = uniquePrefix("race");
    const workflowId = `race-${randomBytes(3).toString("hex")}`;
    const storage = new RedisStorage({ url, prefix, logger: { warn() {} } });
    const engine = await WorkflowEngine.create({
      workflowId,
      nodes: [new Tick({ id: "tick" })],
      storage,
      initialState: { count: 0 },
    });

    const args = [url, prefix, workflowId, engine.runId, String(TARGET)];
    const children = ["a", "b"].map((tag) => new Fixture("race-engines.js", [...args, tag]));
    await Promise.all(children.map((child) => child.waitForLines(1)));
    for (const child of children) child.send("go");
    const outputs = await Promise.all(children.map((child) => child.finished(60_000)));
    const perProcess = outputs.map(
      (lines) => JSON.parse(lines.at(-1) as string).appended as number[],
    );
    // Both processes took part (each connects before the start signal).
    for (const steps of perProcess) expect(steps.length).toBeGreaterThan(0);
    const appended = perProcess.flat();
    expect([...appended].sort((a, b) => a - b)).toEqual(
      Array.from({ length: TARGET }, (_, i) => i + 1),
    );

    const steps = (await storage.listSteps(workflowId, engine.runId, { limit: 1000 })).items;
    expect(steps.map((record) => record.step)).toEqual(
      Array.from({ length: TARGET + 1 }, (_, i) => i),
    );
    for (const record of steps.slice(1)) {
      expect(record.parent).toBe(record.step - 1);
      expect(record.shared).toEqual({ count: record.step, by: expect.stringMatching(/^[ab]$/) });
    }
    expect(await storage.getRun(workflowId, engine.runId)).toMatchObject({
      headStep: TARGET,
      status: "completed",
    });
    await storage.deleteRun(workflowId, engine.runId);
    await storage.close();
  });
});
