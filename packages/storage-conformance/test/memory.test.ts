// The reference implementation runs the whole suite like any adapter.
import { MemoryStorage, type MemoryStorageData } from "@wf/core";
import { defineStorageConformance } from "../src/index.js";

// One map per test file: the stores of a test share it, as processes share a server.
const data: MemoryStorageData = new Map();

defineStorageConformance({
  name: "MemoryStorage",
  create: ({ ttlSeconds }) => new MemoryStorage({ ttlSeconds, ...(ttlSeconds ? {} : { data }) }),
  // Data outlives no process, whatever the shared map makes it look like.
  capabilities: { persistent: false },
  async damage({ workflowId, runId, record }, text) {
    const stored = data.get(workflowId)?.get(runId);
    if (!stored) throw new Error(`no run ${runId} to damage`);
    if (record === "metadata") {
      if (text === null) throw new Error("run metadata cannot be removed on its own here");
      stored.metadata = text;
    } else if (text === null) stored.steps.delete(record);
    else stored.steps.set(record, text);
  },
});
