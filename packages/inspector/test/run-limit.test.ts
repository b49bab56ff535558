// A Run action on a workflow that never ends stops after RUN_STEP_LIMIT steps
// and says so, instead of holding the request (and appending) for ever.
import { MemoryStorage, Node, type SharedState, WorkflowEngine } from "@wf/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RUN_STEP_LIMIT } from "../src/actions.js";
import { type ActionResult, type Inspector, startInspector } from "../src/index.js";

class Tick extends Node {
  override cleanup(shared: SharedState): void {
    shared.ticks = ((shared.ticks as number | undefined) ?? 0) + 1;
  }
}

const forever = {
  workflowId: "forever",
  nodes: [new Tick({ id: "tick" })],
  edges: [{ from: "tick", to: "tick" }],
};

describe("the Run action's step limit", () => {
  const storage = new MemoryStorage();
  let inspector: Inspector;
  let runId: string;

  beforeAll(async () => {
    runId = (await WorkflowEngine.create({ ...forever, storage })).runId;
    inspector = await startInspector({ storage, definitions: [forever], port: 0 });
  });
  afterAll(() => inspector?.close());

  it("stops a run that never ends after the limit, says so, and a second Run goes on", async () => {
    const base = `http://127.0.0.1:${inspector.port}`;
    const run = async (step: number) => {
      const response = await fetch(`${base}/api/workflows/forever/runs/${runId}/actions`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          origin: base,
          "x-wf-token": inspector.token,
        },
        body: JSON.stringify({ action: "run", step }),
      });
      expect(response.status).toBe(200);
      return (await response.json()) as ActionResult;
    };
    const first = await run(0);
    expect(first).toMatchObject({
      headStep: RUN_STEP_LIMIT,
      status: "running",
      stoppedAtLimit: true,
    });
    expect((await storage.getRun("forever", runId)).headStep).toBe(RUN_STEP_LIMIT);
    const second = await run(RUN_STEP_LIMIT);
    expect(second).toMatchObject({ headStep: 2 * RUN_STEP_LIMIT, stoppedAtLimit: true });
    expect((await storage.getLatestStep("forever", runId)).shared).toEqual({
      ticks: 2 * RUN_STEP_LIMIT,
    });
  });
});
