import { type Edge, Node, type RequestInput, type SharedState } from "@wf/core";

/** A loan application: scored, reviewed by a person (who may counter with a smaller amount), decided. */
export interface LoanState extends SharedState {
  applicant: string;
  income: number;
  amount: number;
  score?: number;
  decision?: "approve" | "decline" | "counter";
  counters?: number;
  outcome?: string;
}

export const WORKFLOW_ID = "loan";

class Score extends Node<LoanState> {
  override cleanup(shared: LoanState): void {
    // Income over amount, out of 100: a toy model with a visible effect.
    shared.score = Math.min(100, Math.round((shared.income / shared.amount) * 40));
  }
}

class Review extends Node<LoanState, string> {
  override prepare(shared: LoanState, requestInput: RequestInput): Promise<string> {
    return requestInput<string>(
      `Lend ${shared.amount} to ${shared.applicant} (score ${shared.score})?`,
      { options: ["approve", "decline", "counter"] },
    );
  }
  override cleanup(shared: LoanState, decision: string): void {
    shared.decision = decision as LoanState["decision"];
  }
}

class Counter extends Node<LoanState> {
  override cleanup(shared: LoanState): void {
    shared.amount = Math.round(shared.amount * 0.8);
    shared.counters = (shared.counters ?? 0) + 1;
  }
}

class Decide extends Node<LoanState> {
  override cleanup(shared: LoanState): void {
    shared.outcome =
      shared.decision === "approve" ? `lent ${shared.amount} at score ${shared.score}` : "declined";
  }
}

const edges: Edge<LoanState>[] = [
  { from: "score", to: "review" },
  { from: "review", to: "counter", when: (shared) => shared.decision === "counter" },
  { from: "review", to: "decide" },
  { from: "counter", to: "score" },
];

/** The definition, as `wf --definition` loads it (the default export). */
export default {
  workflowId: WORKFLOW_ID,
  nodes: [
    new Score({ id: "score" }),
    new Review({ id: "review" }),
    new Counter({ id: "counter" }),
    new Decide({ id: "decide" }),
  ],
  edges,
};
