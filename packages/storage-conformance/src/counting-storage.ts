import type { WorkflowStorage } from "@wf/core";

const WRITES = new Set(["createRun", "appendStep", "deleteRun"]);

/** Wraps a store and counts calls per method, to check what the engine asks of it. */
export function countingStorage(inner: WorkflowStorage): {
  storage: WorkflowStorage;
  calls: Map<string, number>;
  writes(): number;
  total(): number;
} {
  const calls = new Map<string, number>();
  const storage = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function" || typeof property !== "string") return value;
      return (...args: unknown[]) => {
        calls.set(property, (calls.get(property) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const count = (filter: (method: string) => boolean) =>
    [...calls].filter(([method]) => filter(method)).reduce((sum, [, n]) => sum + n, 0);
  return {
    storage,
    calls,
    writes: () => count((method) => WRITES.has(method)),
    total: () => count(() => true),
  };
}
