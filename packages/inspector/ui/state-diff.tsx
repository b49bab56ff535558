import type { StateChange } from "../src/api-types.ts";
import { pathText, preview } from "./common.tsx";

const LABELS = { CREATE: "added", REMOVE: "removed", CHANGE: "changed" } as const;

export function StateDiff({ changes }: { changes: StateChange[] }) {
  if (changes.length === 0)
    return (
      <p className="muted" data-testid="diff-empty">
        No change to the state.
      </p>
    );
  return (
    <ul className="diff" data-testid="diff">
      {changes.map((change) => (
        <li
          key={`${change.type}:${pathText(change.path)}`}
          className={`diff-row diff-${change.type.toLowerCase()}`}
        >
          <span className={`tag diff-tag-${change.type.toLowerCase()}`}>{LABELS[change.type]}</span>
          <code className="diff-path">{pathText(change.path)}</code>
          {change.type === "CHANGE" ? (
            <span className="diff-values">
              <code className="old">{preview(change.oldValue)}</code> →{" "}
              <code className="new">{preview(change.value)}</code>
            </span>
          ) : change.type === "CREATE" ? (
            <code className="new">{preview(change.value)}</code>
          ) : (
            <code className="old">{preview(change.oldValue)}</code>
          )}
        </li>
      ))}
    </ul>
  );
}
