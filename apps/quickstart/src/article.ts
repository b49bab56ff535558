import { type Edge, Node, type RequestInput, type SharedState } from "@wf/core";

/** The sample workflow: research -> outline -> draft -> review (asks a person) -> revise* -> publish. */

export interface ArticleState extends SharedState {
  topic: string;
  notes?: string[];
  outline?: string[];
  draft?: string;
  revisions?: number;
  decision?: string;
  publishedAt?: string;
}

export const WORKFLOW_ID = "article";

class Research extends Node<ArticleState> {
  override cleanup(shared: ArticleState): void {
    shared.notes = [
      `why ${shared.topic} matters`,
      `how ${shared.topic} works`,
      `where ${shared.topic} fails`,
    ];
  }
}

class Outline extends Node<ArticleState> {
  override cleanup(shared: ArticleState): void {
    shared.outline = (shared.notes ?? []).map((note, i) => `${i + 1}. ${note}`);
  }
}

class Draft extends Node<ArticleState, string[], string> {
  override prepare(shared: ArticleState): string[] {
    return shared.outline ?? [];
  }
  override execute(outline: string[]): string {
    return outline.map((line) => `${line}: …`).join("\n");
  }
  override cleanup(shared: ArticleState, _outline: string[], draft: string): void {
    shared.draft = draft;
    shared.revisions = 0;
  }
}

class Review extends Node<ArticleState, string> {
  override prepare(shared: ArticleState, requestInput: RequestInput): Promise<string> {
    return requestInput<string>(`Publish "${shared.topic}" (revision ${shared.revisions})?`, {
      options: ["publish", "revise"],
    });
  }
  override cleanup(shared: ArticleState, decision: string): void {
    shared.decision = decision;
  }
}

class Revise extends Node<ArticleState> {
  override cleanup(shared: ArticleState): void {
    shared.revisions = (shared.revisions ?? 0) + 1;
    shared.draft = `${shared.draft}\n(revised ${shared.revisions}x)`;
  }
}

class Publish extends Node<ArticleState> {
  override cleanup(shared: ArticleState): void {
    shared.publishedAt = "the front page";
  }
}

export function articleWorkflow(options: { withoutOutline?: boolean } = {}) {
  const nodes: Node<ArticleState>[] = [
    new Research({ id: "research" }),
    new Outline({ id: "outline" }),
    new Draft({ id: "draft", maxRetries: 2, retryDelayMs: 100 }),
    new Review({ id: "review" }),
    new Revise({ id: "revise" }),
    new Publish({ id: "publish" }),
  ];
  const edges: Edge<ArticleState>[] = [
    { from: "research", to: "outline" },
    { from: "outline", to: "draft" },
    { from: "draft", to: "review" },
    { from: "review", to: "revise", when: (s) => s.decision === "revise" },
    { from: "review", to: "publish" },
    { from: "revise", to: "review" },
  ];
  if (!options.withoutOutline) return { workflowId: WORKFLOW_ID, nodes, edges };
  // The same workflow after someone deleted the outline node: runs that went
  // through it can no longer be resumed past it.
  return {
    workflowId: WORKFLOW_ID,
    nodes: nodes.filter((node) => node.id !== "outline"),
    edges: [
      { from: "research", to: "draft" },
      ...edges.filter((e) => e.from !== "outline" && e.to !== "outline"),
    ],
  };
}
