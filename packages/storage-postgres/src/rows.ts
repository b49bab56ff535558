import { CorruptRecordError, type RunMetadata, type RunStatus, type StepRecord } from "@wf/core";

export interface RunRow {
  metadata: string;
  head_step: number;
  status: RunStatus;
  updated_at: string;
}

/**
 * The run's metadata: the JSON stored at creation with the columns an append
 * moves (head, status, update time) laid over it. Assigning to keys the
 * object already has keeps their order, so the result serialises as
 * `advanceRunMetadata` would have made it.
 */
export function runFromRow(row: RunRow, location: string): RunMetadata {
  const run = parseJson(row.metadata, location) as RunMetadata;
  if (typeof run !== "object" || run === null || Array.isArray(run)) {
    throw new CorruptRecordError(location, "the metadata is not a JSON object");
  }
  run.headStep = row.head_step;
  run.status = row.status;
  run.updatedAt = row.updated_at;
  return run;
}

/** A step record from its stored JSON text, with `JSON.parse` so keys like `__proto__` stay data. */
export function stepFromText(text: string, location: string): StepRecord {
  const record = parseJson(text, location) as StepRecord;
  if (typeof record !== "object" || record === null || Array.isArray(record)) {
    throw new CorruptRecordError(location, "the record is not a JSON object");
  }
  return record;
}

function parseJson(text: string, location: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CorruptRecordError(location, `it is not valid JSON (${(error as Error).message})`, {
      cause: error,
    });
  }
}
