import { createHash } from "node:crypto";
import { Node, type SharedState } from "@wf/core";

/** State of the crash workflow: the payload's size at each node is chosen up front. */
export interface CrashState extends SharedState {
  sizes: number[];
  visited: string[];
  payload: string;
}

/** One node of the crash workflow: records its visit and replaces the payload. */
class Work extends Node<CrashState> {
  override cleanup(shared: CrashState): void {
    const index = shared.visited.length;
    shared.visited.push(this.id);
    shared.payload = payload(shared.sizes[index] ?? 0, this.id);
  }
}

/** `size` characters of multi-byte text, different per node, so a torn record cannot pass for a whole one. */
export function payload(size: number, salt: string): string {
  const unit = `${salt}:é🙂x\u0000"\\`;
  return unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
}

/** A chain of `nodes` nodes n0 → n1 → …: a run has exactly `nodes` + 1 steps once completed. */
export function crashWorkflow(workflowId: string, nodes: number) {
  const ids = Array.from({ length: nodes }, (_, i) => `n${i}`);
  return {
    workflowId,
    nodes: ids.map((id) => new Work({ id })),
    edges: ids.slice(1).map((id, i) => ({ from: ids[i] as string, to: id })),
  };
}

/** State of the tick workflow: step k of a run holds count k. */
export interface TickState extends SharedState {
  count: number;
  goal: number;
  /** Who wrote the step (an engine's label), for reading a duplicate. */
  by: string;
}

interface TickOptions {
  id?: string;
  by?: string;
}

class Tick extends Node<TickState, unknown, unknown, TickOptions> {
  override cleanup(shared: TickState): void {
    shared.count += 1;
    shared.by = this.options.by ?? "";
  }
}

/** One node looping on itself until `count` reaches the state's `goal`. */
export function tickWorkflow(workflowId: string, by = "") {
  return {
    workflowId,
    nodes: [new Tick({ id: "tick", by })],
    edges: [{ from: "tick", to: "tick", when: (shared: TickState) => shared.count < shared.goal }],
  };
}

/** What the writer of a step reports and the reader checks: a digest of the step's shared state. */
export function stateHash(shared: unknown): string {
  return createHash("sha256").update(JSON.stringify(shared)).digest("hex").slice(0, 16);
}
