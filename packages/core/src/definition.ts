import { createHash } from "node:crypto";
import type { IncompatibleNode } from "./errors.js";
import type { DefinitionFingerprint, StepRecord } from "./journal.js";
import { Node, type SharedState } from "./node.js";

export interface Edge<Shared extends SharedState = SharedState> {
  from: string;
  to: string;
  /** The edge is taken when this holds. Edges with `when` are tried first, in order. */
  when?: (shared: Shared) => boolean;
}

/** The nodes and edges of a workflow, checked once at `create`. */
export class WorkflowDefinition<Shared extends SharedState = SharedState> {
  readonly nodes = new Map<string, Node<Shared>>();
  readonly start: string;
  readonly fingerprint: DefinitionFingerprint;
  readonly #edgesFrom = new Map<string, Edge<Shared>[]>();

  constructor(nodes: readonly Node<Shared>[], edges: readonly Edge<Shared>[], start?: string) {
    if (!Array.isArray(nodes) || nodes.length === 0) {
      throw new TypeError("A workflow needs at least one node in `nodes`.");
    }
    for (const node of nodes) {
      if (!(node instanceof Node)) {
        throw new TypeError(
          `Every entry of \`nodes\` must be a Node instance, got ${String(node)}`,
        );
      }
      if (this.nodes.has(node.id)) {
        throw new TypeError(
          `Two nodes have the id "${node.id}"; give one of them another id: new ${node.type}({ id: "…" }).`,
        );
      }
      this.nodes.set(node.id, node);
    }
    for (const edge of edges) {
      for (const end of ["from", "to"] as const) {
        if (!this.nodes.has(edge[end])) {
          throw new TypeError(
            `Edge ${edge.from} -> ${edge.to} refers to unknown node "${edge[end]}"; known nodes: ${[
              ...this.nodes.keys(),
            ].join(", ")}.`,
          );
        }
      }
      if (edge.when !== undefined && typeof edge.when !== "function") {
        throw new TypeError(`Edge ${edge.from} -> ${edge.to}: \`when\` must be a function.`);
      }
      const list = this.#edgesFrom.get(edge.from) ?? [];
      list.push(edge);
      this.#edgesFrom.set(edge.from, list);
    }
    this.start = start ?? (nodes[0] as Node<Shared>).id;
    if (!this.nodes.has(this.start)) {
      throw new TypeError(`The start node "${this.start}" is not among \`nodes\`.`);
    }
    this.fingerprint = fingerprintOf(this.start, nodes, edges);
  }

  /** The first edge whose `when` holds, else the first edge without `when`; null ends the run. */
  nextAfter(nodeId: string, shared: Shared): string | null {
    const edges = this.#edgesFrom.get(nodeId) ?? [];
    for (const edge of edges) if (edge.when?.(shared)) return edge.to;
    return edges.find((edge) => edge.when === undefined)?.to ?? null;
  }

  /** Nodes that ran on the timeline up to `record` but are missing or of another type now. */
  incompatibleNodes(record: StepRecord): IncompatibleNode[] {
    const problems: IncompatibleNode[] = [];
    for (const [nodeId, status] of Object.entries(record.nodeStatuses)) {
      const recordedType = record.nodeTypes[nodeId] ?? "unknown";
      const current = this.nodes.get(nodeId);
      if (!current || current.type !== recordedType) {
        problems.push({ nodeId, status, recordedType, currentType: current?.type ?? null });
      }
    }
    return problems.sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
  }
}

function fingerprintOf<Shared extends SharedState>(
  start: string,
  nodes: readonly Node<Shared>[],
  edges: readonly Edge<Shared>[],
): DefinitionFingerprint {
  const shape = {
    start,
    nodes: nodes.map((node) => ({ id: node.id, type: node.type })),
    edges: edges.map((edge) => ({
      from: edge.from,
      to: edge.to,
      conditional: edge.when !== undefined,
    })),
  };
  const hash = createHash("sha256").update(JSON.stringify(shape)).digest("hex");
  return { ...shape, hash };
}
