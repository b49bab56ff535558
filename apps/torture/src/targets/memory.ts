import { MemoryStorage, type MemoryStorageData } from "@wf/core";
import type { StoreTarget } from "../target.js";

/** The in-memory reference store: the properties hold on it, or they ask too much. */
export async function provision(): Promise<StoreTarget> {
  const data: MemoryStorageData = new Map();
  return {
    kind: "memory",
    where: "this process",
    spec: null,
    open: async () => new MemoryStorage({ data }),
    async damage({ workflowId, runId, record }, text) {
      const stored = data.get(workflowId)?.get(runId);
      if (!stored) throw new Error(`no run ${runId} to damage`);
      if (record === "metadata") {
        if (text === null) throw new TypeError("run metadata cannot be removed on its own here");
        stored.metadata = text;
      } else if (text === null) stored.steps.delete(record);
      else stored.steps.set(record, text);
    },
    async dispose() {
      data.clear();
    },
  };
}
