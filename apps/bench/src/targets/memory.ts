import { MemoryStorage } from "@wf/core";
import type { BenchTarget } from "../target.js";

/** The in-memory reference store; its baseline is a JSON.stringify into a Map, what the store itself does. */
export const target: BenchTarget = {
  name: "memory",
  async open() {
    const sink = new Map<number, string>();
    return {
      storage: new MemoryStorage(),
      async baselineWrite(bytes, i) {
        sink.set(i, JSON.stringify(JSON.parse(bytes)));
      },
      async close() {
        sink.clear();
      },
    };
  },
};
