import { type Edge, Node, type RequestInput, type SharedState } from "@wf/core";

/** Small deterministic workflows the engine-level scenarios run on every adapter. */

interface CounterState extends SharedState {
  count?: number;
  trail?: string[];
  target?: number;
}

/** Adds one to `count` and records its id in `trail`. */
export class Increment extends Node<CounterState> {
  override cleanup(shared: CounterState): void {
    shared.count = (shared.count ?? 0) + 1;
    shared.trail = [...(shared.trail ?? []), this.id];
  }
}

/** Takes one from `count`: a different type that may reuse an Increment's id. */
export class Decrement extends Node<CounterState> {
  override cleanup(shared: CounterState): void {
    shared.count = (shared.count ?? 0) - 1;
    shared.trail = [...(shared.trail ?? []), this.id];
  }
}

/** s1 -> s2 -> … -> sN, all Increments. */
export function linear(length: number): {
  nodes: Node<CounterState>[];
  edges: Edge<CounterState>[];
} {
  const nodes = Array.from({ length }, (_, i) => new Increment({ id: `s${i + 1}` }));
  const edges = nodes.slice(1).map((node, i) => ({ from: `s${i + 1}`, to: node.id }));
  return { nodes, edges };
}

/** One node that loops on itself until `count` reaches `target`: a long run in a small definition. */
export function loop(): { nodes: Node<CounterState>[]; edges: Edge<CounterState>[] } {
  return {
    nodes: [new Increment({ id: "tick" })],
    edges: [{ from: "tick", to: "tick", when: (s) => (s.count ?? 0) < (s.target ?? 0) }],
  };
}

interface ReviewState extends SharedState {
  name?: string;
  email?: string;
  draft?: string;
  approved?: boolean;
  reviews?: number;
  revisions?: number;
}

/** Asks twice in one node: answers come back as `ask` and `ask#2`. */
class AskContact extends Node<ReviewState, { name: string; email: string }> {
  override async prepare(_shared: ReviewState, requestInput: RequestInput) {
    const name = await requestInput<string>("Your name?");
    const email = await requestInput<string>("Your email?");
    return { name, email };
  }
  override cleanup(shared: ReviewState, contact: { name: string; email: string }): void {
    shared.name = contact.name;
    shared.email = contact.email;
  }
}

class Draft extends Node<ReviewState> {
  override cleanup(shared: ReviewState): void {
    shared.draft = `Dear ${shared.name} <${shared.email}>`;
    shared.revisions = 0;
  }
}

class Review extends Node<ReviewState, string> {
  override prepare(_shared: ReviewState, requestInput: RequestInput) {
    return requestInput<string>("Approve the draft?", { options: ["yes", "no"] });
  }
  override cleanup(shared: ReviewState, verdict: string): void {
    shared.approved = verdict === "yes";
    shared.reviews = (shared.reviews ?? 0) + 1;
  }
}

class Revise extends Node<ReviewState> {
  override cleanup(shared: ReviewState): void {
    shared.revisions = (shared.revisions ?? 0) + 1;
    shared.draft = `${shared.draft} (revision ${shared.revisions})`;
  }
}

/** ask -> draft -> review -> (revise -> review)* : a review loop must ask again each time. */
export function reviewLoop(): { nodes: Node<ReviewState>[]; edges: Edge<ReviewState>[] } {
  return {
    nodes: [
      new AskContact({ id: "ask" }),
      new Draft({ id: "draft" }),
      new Review({ id: "review" }),
      new Revise({ id: "revise" }),
    ],
    edges: [
      { from: "ask", to: "draft" },
      { from: "draft", to: "review" },
      { from: "review", to: "revise", when: (s) => s.approved !== true },
      { from: "revise", to: "review" },
    ],
  };
}

/** Shared switch for Flaky nodes, so a "fixed deployment" can be simulated without changing the node's type. */
export const flakiness = { failuresLeft: 0 };

/** Fails while `flakiness.failuresLeft` > 0, on every attempt. */
export class Flaky extends Node<CounterState> {
  override execute(): string {
    if (flakiness.failuresLeft > 0) {
      flakiness.failuresLeft -= 1;
      throw Object.assign(new Error("upstream timed out"), { code: "ETIMEDOUT" });
    }
    return "ok";
  }
  override cleanup(shared: CounterState): void {
    shared.count = (shared.count ?? 0) + 1;
    shared.trail = [...(shared.trail ?? []), this.id];
  }
}
