/**
 * What every hostile property runs in: a store, canary runs no case may
 * touch, scratch workflows for the cases' own runs, and the snapshot of
 * everything outside them, compared after each case.
 */
import { randomBytes } from "node:crypto";
import {
  Node,
  type RequestInput,
  type SharedState,
  WorkflowEngine,
  type WorkflowStorage,
} from "@wf/core";
import { collectPages, snapshotRun } from "@wf/storage-conformance";
import { listRunIds } from "../journal.js";
import type { StoreTarget } from "../target.js";
import { violated } from "./verdict.js";

/** A run the cases must never change. */
export interface Canary {
  workflowId: string;
  runId: string;
}

export interface HostileContext {
  target: StoreTarget;
  storage: WorkflowStorage;
  /** Random per context, in its workflow ids, so contexts on one server never meet. */
  tag: string;
  canaries: Canary[];
  /**
   * Prefix of the cases' own workflows: each case works in a workflow of its
   * own (`newScratch()`), so what a failing case leaves behind cannot sway
   * the next one while fast-check shrinks.
   */
  scratch: string;
  newScratch(): string;
  /** Everything outside the scratch workflow, before the first case. */
  baseline: Snapshot;
}

/** Adds one to `n`: the steps of the canaries and victims. */
class Count extends Node<SharedState> {
  override cleanup(shared: SharedState): void {
    shared.n = Number(shared.n ?? 0) + 1;
  }
}

/** Asks one question and keeps the answer. */
class Ask extends Node<SharedState, unknown, unknown, { id?: string; requestId?: string }> {
  override prepare(_shared: SharedState, requestInput: RequestInput): Promise<unknown> {
    const { requestId } = this.options;
    return requestInput("what now?", requestId === undefined ? {} : { requestId });
  }

  override execute(answer: unknown): unknown {
    return answer;
  }

  override cleanup(shared: SharedState, _answer: unknown, result: unknown): void {
    // Defined, not assigned: an answer under `__proto__` must stay data.
    Object.defineProperty(shared, "answer", {
      value: result,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
}

/** a → b → c: three steps, then completed. */
export function linearWorkflow(workflowId: string) {
  return {
    workflowId,
    nodes: [new Count({ id: "a" }), new Count({ id: "b" }), new Count({ id: "c" })],
    edges: [
      { from: "a", to: "b" },
      { from: "b", to: "c" },
    ],
  };
}

/** One node asking one question (under `requestId`, or its own id). */
export function askWorkflow(workflowId: string, requestId?: string) {
  return { workflowId, nodes: [new Ask({ id: "ask", requestId })] };
}

interface Snapshot {
  runs: string[];
  listings: Record<string, string[]>;
  workflows: string[];
}

async function takeSnapshot(
  storage: WorkflowStorage,
  canaries: readonly Canary[],
  scratch: string,
): Promise<Snapshot> {
  const runs: string[] = [];
  for (const { workflowId, runId } of canaries)
    runs.push(await snapshotRun(storage, workflowId, runId));
  const listings: Record<string, string[]> = {};
  for (const workflowId of new Set(canaries.map((canary) => canary.workflowId))) {
    const { runIds, damaged } = await listRunIds(storage, workflowId);
    listings[workflowId] = [...runIds, ...damaged.map((id) => `damaged ${id}`)].sort();
  }
  const workflows = await collectPages((cursor) => storage.listWorkflows({ cursor }));
  return { runs, listings, workflows: workflows.filter((id) => !id.startsWith(scratch)).sort() };
}

/** Opens a store on `target` and writes the canaries. */
export async function openContext(target: StoreTarget): Promise<HostileContext> {
  const storage = await target.open();
  const tag = randomBytes(4).toString("hex");
  const canaries: Canary[] = [];
  const completed = await WorkflowEngine.create({ ...linearWorkflow(`hc-${tag}`), storage });
  await completed.run();
  const stepped = await WorkflowEngine.create({ ...linearWorkflow(`hc-${tag}`), storage });
  await stepped.step();
  const waiting = await WorkflowEngine.create({ ...askWorkflow(`hd-${tag}`), storage });
  await waiting.run();
  for (const engine of [completed, stepped, waiting]) {
    canaries.push({ workflowId: engine.workflowId, runId: engine.runId });
  }
  const scratch = `hv-${tag}`;
  const baseline = await takeSnapshot(storage, canaries, scratch);
  let cases = 0;
  const newScratch = () => `${scratch}-${++cases}`;
  return { target, storage, tag, canaries, scratch, newScratch, baseline };
}

/** A violation unless everything outside the scratch workflow is as it was. */
export async function assertUnchanged(context: HostileContext): Promise<void> {
  const now = await takeSnapshot(context.storage, context.canaries, context.scratch);
  const before = context.baseline;
  now.runs.forEach((run, i) => {
    if (run !== before.runs[i]) {
      violated(`canary run ${context.canaries[i]?.runId} changed`);
    }
  });
  for (const [workflowId, runIds] of Object.entries(now.listings)) {
    if (JSON.stringify(runIds) !== JSON.stringify(before.listings[workflowId])) {
      violated(
        `listRuns(${workflowId}) changed from ${JSON.stringify(before.listings[workflowId])} to ${JSON.stringify(runIds)}`,
      );
    }
  }
  if (JSON.stringify(now.workflows) !== JSON.stringify(before.workflows)) {
    const added = now.workflows.filter((id) => !before.workflows.includes(id));
    const removed = before.workflows.filter((id) => !now.workflows.includes(id));
    violated(
      `listWorkflows changed: added ${JSON.stringify(added).slice(0, 200)}, removed ${JSON.stringify(removed).slice(0, 200)}`,
    );
  }
}

/**
 * Deletes what a case left outside its scratch workflow (runs added to a
 * canary workflow, new workflows), after the case was judged, so one failing
 * case cannot fail every later one while fast-check shrinks.
 */
export async function removeStrays(context: HostileContext): Promise<void> {
  const { storage, baseline } = context;
  const strays: [string, string][] = [];
  for (const [workflowId, before] of Object.entries(baseline.listings)) {
    const { runIds, damaged } = await listRunIds(storage, workflowId).catch(() => ({
      runIds: [],
      damaged: [],
    }));
    for (const runId of [...runIds, ...damaged])
      if (!before.includes(runId)) strays.push([workflowId, runId]);
  }
  const workflows = await collectPages((cursor) => storage.listWorkflows({ cursor })).catch(
    () => [],
  );
  for (const workflowId of workflows) {
    if (workflowId.startsWith(context.scratch) || baseline.workflows.includes(workflowId)) continue;
    const { runIds, damaged } = await listRunIds(storage, workflowId).catch(() => ({
      runIds: [],
      damaged: [],
    }));
    for (const runId of [...runIds, ...damaged]) strays.push([workflowId, runId]);
  }
  for (const [workflowId, runId] of strays) {
    await storage.deleteRun(workflowId, runId).catch(() => {});
  }
}

export async function closeContext(context: HostileContext): Promise<void> {
  await context.storage.close();
}
