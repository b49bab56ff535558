// Spans through @opentelemetry/api once the application registers a tracer provider: one
// `wf.step` span per step a worker runs, with the run's ids, step, node and resulting status.
import { trace } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { Node, type SharedState } from "@wf/core";
import { Worker, WorkflowClient } from "@wf/worker";
import { afterAll, beforeAll, expect, it } from "vitest";
import { freshQueue, freshStorage } from "./servers.js";

const exporter = new InMemorySpanExporter();

beforeAll(() => {
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  trace.setGlobalTracerProvider(provider);
});

afterAll(() => {
  trace.disable();
});

class Step extends Node {
  override cleanup(shared: SharedState): void {
    shared.count = ((shared.count as number | undefined) ?? 0) + 1;
  }
}

class Boom extends Node {
  override execute(): never {
    throw new Error("boom");
  }
}

it("a worker records one wf.step span per step, marking a failed node's span", async () => {
  const storage = await freshStorage();
  const queue = await freshQueue();
  const workflowId = `traced-${process.pid}-${Date.now().toString(36)}`;
  const workflow = {
    workflowId,
    nodes: [new Step({ id: "one" }), new Step({ id: "two" }), new Boom({ id: "boom" })],
    edges: [
      { from: "one", to: "two" },
      { from: "two", to: "boom" },
    ],
  };
  const worker = new Worker({ storage, queue, workflows: [workflow] });
  try {
    await worker.start();
    const client = new WorkflowClient({ storage, queue, pollIntervalMs: 20 });
    const { runId } = await client.start(workflowId);
    expect(await client.wait(workflowId, runId)).toBe("failed");
    const spans = exporter
      .getFinishedSpans()
      .filter((span) => span.attributes["wf.run_id"] === runId);
    expect(spans.map((span) => span.name)).toEqual(["wf.step", "wf.step", "wf.step"]);
    expect(
      spans.map((span) => [
        span.attributes["wf.workflow_id"],
        span.attributes["wf.step"],
        span.attributes["wf.node_id"],
        span.attributes["wf.status"],
      ]),
    ).toEqual([
      [workflowId, 1, "one", "running"],
      [workflowId, 2, "two", "running"],
      [workflowId, 3, "boom", "failed"],
    ]);
    // The run failing is journalled, not thrown: the span is not an error, its status attribute says it.
    expect(spans.every((span) => span.status.code !== 2)).toBe(true);
  } finally {
    await worker.close();
    await queue.close();
    await storage.close();
  }
});
