/** A collapsible tree of a JSON value, with search. Every string is rendered as text. */
import type { JsonValue } from "@wf/core";
import { useMemo, useState } from "react";

const SHOWN_CHILDREN = 200;

function matches(key: string, value: JsonValue, needle: string): boolean {
  if (key.toLowerCase().includes(needle)) return true;
  if (value !== null && typeof value === "object") {
    return Object.entries(value).some(([childKey, child]) =>
      matches(childKey, child as JsonValue, needle),
    );
  }
  return String(value).toLowerCase().includes(needle);
}

function Leaf({ value }: { value: JsonValue }) {
  if (typeof value === "string") return <span className="json-string">"{value}"</span>;
  if (value === null) return <span className="json-null">null</span>;
  return <span className={`json-${typeof value}`}>{String(value)}</span>;
}

function TreeNode(props: { name: string; value: JsonValue; depth: number; needle: string }) {
  const { name, value, depth, needle } = props;
  const [open, setOpen] = useState(depth < 2);
  const [limit, setLimit] = useState(SHOWN_CHILDREN);
  const isObject = value !== null && typeof value === "object";
  if (!isObject) {
    return (
      <div className="tree-row" style={{ paddingLeft: depth * 14 }}>
        <span className="tree-key">{name}</span>: <Leaf value={value} />
      </div>
    );
  }
  const entries = Object.entries(value);
  const shown = needle
    ? entries.filter(([key, child]) => matches(key, child as JsonValue, needle))
    : entries;
  const expanded = open || needle !== "";
  const summary = Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`;
  return (
    <div>
      <button
        type="button"
        className="tree-row tree-toggle"
        style={{ paddingLeft: depth * 14 }}
        onClick={() => setOpen(!open)}
        aria-expanded={expanded}
      >
        <span className="caret">{expanded ? "▾" : "▸"}</span>
        <span className="tree-key">{name}</span> <span className="muted">{summary}</span>
      </button>
      {expanded ? (
        <>
          {shown.slice(0, limit).map(([key, child]) => (
            <TreeNode
              key={key}
              name={key}
              value={child as JsonValue}
              depth={depth + 1}
              needle={needle}
            />
          ))}
          {shown.length > limit ? (
            <button
              type="button"
              className="linkish"
              style={{ marginLeft: (depth + 1) * 14 }}
              onClick={() => setLimit(limit + SHOWN_CHILDREN)}
            >
              show {Math.min(SHOWN_CHILDREN, shown.length - limit)} more of {shown.length - limit}
            </button>
          ) : null}
        </>
      ) : null}
    </div>
  );
}

export function StateTree({ value }: { value: JsonValue }) {
  const [query, setQuery] = useState("");
  const needle = query.trim().toLowerCase();
  const empty = useMemo(() => needle !== "" && !matches("", value, needle), [needle, value]);
  return (
    <div className="state-tree" data-testid="state-tree">
      <input
        type="search"
        className="tree-search"
        placeholder="Search keys and values…"
        aria-label="Search the state"
        value={query}
        onChange={(event) => setQuery(event.target.value)}
      />
      <div className="tree-body">
        {empty ? (
          <p className="muted">Nothing matches.</p>
        ) : (
          <TreeNode name="shared" value={value} depth={0} needle={needle} />
        )}
      </div>
    </div>
  );
}
