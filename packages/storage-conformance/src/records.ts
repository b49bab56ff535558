// The record builders adapter authors use in their own tests, written through
// the contract directly. Kept apart from the suite so that importing them
// (`@wf/storage-conformance/records`) never loads vitest.
import { randomBytes } from "node:crypto";
import {
  JOURNAL_FORMAT_VERSION,
  type RunMetadata,
  type StepRecord,
  type WorkflowStorage,
} from "@wf/core";

let runCounter = 0;

/** A run id unique within the test process, in the engine's format. */
export function uniqueRunId(): string {
  runCounter += 1;
  return `20260101_000000_000_${randomBytes(4).toString("hex")}${String(runCounter % 10_000).padStart(4, "0")}`;
}

/** A valid run metadata object, written directly through the contract. */
export function sampleRun(
  workflowId: string,
  runId: string,
  overrides: Partial<RunMetadata> = {},
): RunMetadata {
  const createdAt = overrides.createdAt ?? "2026-01-01T00:00:00.000Z";
  return {
    formatVersion: JOURNAL_FORMAT_VERSION,
    workflowId,
    runId,
    createdAt,
    updatedAt: createdAt,
    status: "running",
    headStep: 0,
    forkedFrom: null,
    definition: {
      start: "a",
      nodes: [{ id: "a", type: "A" }],
      edges: [],
      hash: "0".repeat(64),
    },
    ...overrides,
  };
}

/**
 * A valid step record, written directly through the contract. A waiting or
 * failed status brings the pending question or the error it needs, unless the
 * overrides give one.
 */
export function sampleStep(
  workflowId: string,
  runId: string,
  step: number,
  overrides: Partial<StepRecord> = {},
): StepRecord {
  const status = overrides.status ?? "running";
  return {
    formatVersion: JOURNAL_FORMAT_VERSION,
    workflowId,
    runId,
    step,
    parent: step === 0 ? null : step - 1,
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, step)).toISOString(),
    status: "running",
    nodeStatuses: step === 0 ? {} : { a: "completed" },
    nodeTypes: step === 0 ? {} : { a: "A" },
    shared: { step },
    previousNodeId: step === 0 ? null : "a",
    nextNodeId: "a",
    awaitingInput:
      status === "waiting_for_input"
        ? { nodeId: "a", requestId: "a", prompt: "Answer?", options: null }
        : null,
    inputs: {},
    error:
      status === "failed"
        ? { name: "Error", message: "failed on purpose", code: null, nodeId: "a", stack: null }
        : status === "cancelled"
          ? {
              name: "RunCancelled",
              message: "cancelled",
              code: "CANCELLED",
              nodeId: "a",
              stack: null,
            }
          : null,
    ...overrides,
  };
}

/** Creates a run with steps 0..head written through the contract. */
export async function seedRun(
  store: WorkflowStorage,
  workflowId: string,
  head: number,
  runId = uniqueRunId(),
): Promise<string> {
  await store.createRun(sampleRun(workflowId, runId), sampleStep(workflowId, runId, 0));
  for (let step = 1; step <= head; step++) {
    await store.appendStep(sampleStep(workflowId, runId, step));
  }
  return runId;
}

/** Every page of a listing, concatenated; with `limit`, also checks no page is longer. */
export async function collectPages<T>(
  list: (cursor: string | null) => Promise<{ items: T[]; nextCursor: string | null }>,
  limit?: number,
): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 10_000; pages++) {
    const page = await list(cursor);
    if (limit !== undefined && page.items.length > limit) {
      throw new Error(`a page held ${page.items.length} items, more than the limit of ${limit}`);
    }
    all.push(...page.items);
    cursor = page.nextCursor;
    if (cursor === null) return all;
  }
  throw new Error("listing did not end after 10,000 pages");
}

/** The JSON text of everything a run stores: metadata and every step, for byte-for-byte comparison. */
export async function snapshotRun(
  store: WorkflowStorage,
  workflowId: string,
  runId: string,
): Promise<string> {
  const run = await store.getRun(workflowId, runId);
  const steps = await collectPages((cursor) => store.listSteps(workflowId, runId, { cursor }));
  return JSON.stringify({ run, steps });
}

/** Resolves to the error a promise rejected with, or fails if it fulfilled. */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error("expected the operation to fail, but it succeeded");
}
export { runOnce, typeErrorOf } from "./one-run.js";
