// Keys the worker derives: job keys and run ids from idempotency keys.
import { isValidId } from "@wf/core";
import { describe, expect, it } from "vitest";
import { jobKey, runIdForKey } from "../src/index.js";

describe("keys", () => {
  it("a job key names workflow, run and step, and two runs never share one", () => {
    expect(jobKey({ workflowId: "approval", runId: "r-1", atStep: 4 })).toBe("approval/r-1/4");
    expect(jobKey({ workflowId: "a", runId: "b.c", atStep: 0 })).not.toBe(
      jobKey({ workflowId: "a.b", runId: "c", atStep: 0 }),
    );
  });

  it("the run id of an idempotency key is a valid id, the same every time, and differs per workflow and key", () => {
    const runId = runIdForKey("approval", "order-42");
    expect(isValidId(runId)).toBe(true);
    expect(runIdForKey("approval", "order-42")).toBe(runId);
    expect(runIdForKey("approval", "order-43")).not.toBe(runId);
    expect(runIdForKey("other", "order-42")).not.toBe(runId);
    // Keys of any text, however long, still give a valid id.
    expect(isValidId(runIdForKey("approval", "ü/../".repeat(100)))).toBe(true);
  });
});
