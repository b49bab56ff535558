import { createHash, type Hash } from "node:crypto";
import type { RunMetadata, StepRecord } from "@wf/core";

// Top-level fields in a fixed order, so two stores that return the same
// journal give the same text whatever order their driver builds objects in.
// Nested values (shared state, inputs, …) keep the order they were stored in:
// key order is part of what a store must keep, so a difference there is real.
const METADATA_FIELDS = [
  "formatVersion",
  "workflowId",
  "runId",
  "createdAt",
  "updatedAt",
  "status",
  "headStep",
  "forkedFrom",
  "definition",
] as const satisfies readonly (keyof RunMetadata)[];

const RECORD_FIELDS = [
  "formatVersion",
  "workflowId",
  "runId",
  "step",
  "parent",
  "createdAt",
  "status",
  "nodeStatuses",
  "nodeTypes",
  "shared",
  "previousNodeId",
  "nextNodeId",
  "awaitingInput",
  "inputs",
  "error",
] as const satisfies readonly (keyof StepRecord)[];

function canonical(value: object, fields: readonly string[]): string {
  const source = value as Record<string, unknown>;
  return JSON.stringify(fields.map((field) => [field, source[field] ?? null]));
}

/** The text a run's metadata is compared and hashed by. */
export function canonicalMetadata(run: RunMetadata): string {
  return canonical(run, METADATA_FIELDS);
}

/** The text a step record is compared and hashed by. */
export function canonicalRecord(record: StepRecord): string {
  return canonical(record, RECORD_FIELDS);
}

/**
 * sha256 of a run's journal: its metadata, then every record it stores in
 * step order, fed one record at a time so no run is ever held whole.
 */
export class JournalHash {
  readonly #hash: Hash = createHash("sha256");
  #steps = 0;

  /** Feeds the metadata; call it once, first. */
  metadata(run: RunMetadata): this {
    this.#hash.update(canonicalMetadata(run)).update("\n");
    return this;
  }

  /** Feeds the next record; `text` is its canonicalRecord when the caller has it already. */
  record(record: StepRecord, text = canonicalRecord(record)): this {
    this.#hash.update(text).update("\n");
    this.#steps += 1;
    return this;
  }

  /** How many records were fed. */
  get steps(): number {
    return this.#steps;
  }

  digest(): string {
    return this.#hash.digest("hex");
  }
}
