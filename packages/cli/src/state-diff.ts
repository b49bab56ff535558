import type { JsonValue, StepRecord } from "@wf/core";
import microdiff from "microdiff";

/** One difference between two steps: the run status, or a path in the shared state or the node statuses. */
export interface Change {
  /** `status`, or `shared` or `nodeStatuses` then keys and array indexes: `shared.order.items[2]`. */
  path: string;
  kind: "added" | "removed" | "changed";
  before?: JsonValue;
  after?: JsonValue;
}

/**
 * What changed from step `before` to step `after`: the run status first (a
 * cancel step changes nothing else), then shared state, then node statuses.
 */
export function diffSteps(before: StepRecord, after: StepRecord): Change[] {
  const status: Change[] =
    before.status === after.status
      ? []
      : [{ path: "status", kind: "changed", before: before.status, after: after.status }];
  return [
    ...status,
    ...diffValues("shared", before.shared, after.shared),
    ...diffValues("nodeStatuses", before.nodeStatuses, after.nodeStatuses),
  ];
}

function diffValues(root: string, before: JsonValue, after: JsonValue): Change[] {
  // microdiff compares containers; a state that is a scalar (or changes kind) is one change at the root.
  if (
    !isContainer(before) ||
    !isContainer(after) ||
    Array.isArray(before) !== Array.isArray(after)
  ) {
    return JSON.stringify(before) === JSON.stringify(after)
      ? []
      : [{ path: root, kind: "changed", before, after }];
  }
  return microdiff(before, after).map((difference) => {
    const path = formatPath(root, difference.path);
    switch (difference.type) {
      case "CREATE":
        return { path, kind: "added", after: difference.value as JsonValue };
      case "REMOVE":
        return { path, kind: "removed", before: difference.oldValue as JsonValue };
      default:
        return {
          path,
          kind: "changed",
          before: difference.oldValue as JsonValue,
          after: difference.value as JsonValue,
        };
    }
  });
}

function isContainer(value: JsonValue): value is JsonValue[] | { [key: string]: JsonValue } {
  return typeof value === "object" && value !== null;
}

/** `shared.a.b[0]`, with keys that are not plain names quoted: `shared["a b"]`. */
function formatPath(root: string, path: readonly (string | number)[]): string {
  return path.reduce<string>((text, key) => {
    if (typeof key === "number") return `${text}[${key}]`;
    return /^[A-Za-z_$][\w$]*$/.test(key) ? `${text}.${key}` : `${text}[${JSON.stringify(key)}]`;
  }, root);
}
