/**
 * The JSON stored in objects: the run document (`run.json`), step records,
 * index entries and workflow markers, and reading them back, naming where a
 * record that cannot be read lives.
 */
import { CorruptRecordError, type RunMetadata, type StepRecord } from "@wf/core";
import { LAYOUT_VERSION } from "./key-layout.js";

/**
 * `run.json`: the run's metadata as last advanced, and the incarnation its
 * steps live under. `deleting` marks a run whose deletion has begun: it no
 * longer exists for readers, and deleteRun finishes the job if called again.
 */
export interface RunDocument {
  layout: number;
  incarnation: string;
  run: RunMetadata;
  deleting?: true;
}

/** User metadata of a step object, so the head can be probed with HEAD requests. */
export const STEP_STATUS = "wf-status";
export const STEP_CREATED_AT = "wf-created-at";
/** Random per write: tells a write of ours that S3 retried apart from someone else's. */
export const WRITE_TOKEN = "wf-token";

export function runDocument(run: RunMetadata, incarnation: string, deleting = false): string {
  const document: RunDocument = { layout: LAYOUT_VERSION, incarnation, run };
  if (deleting) document.deleting = true;
  return JSON.stringify(document);
}

export function readRunDocument(text: string, location: string): RunDocument {
  const document = parseJson(text, location) as Partial<RunDocument> | null;
  if (typeof document !== "object" || document === null || typeof document.layout !== "number") {
    throw new CorruptRecordError(location, "it is not a run document");
  }
  if (document.layout > LAYOUT_VERSION) {
    throw new CorruptRecordError(
      location,
      `it was written in layout ${document.layout} by a newer @wf/storage-s3 (this one reads layout ${LAYOUT_VERSION}); upgrade`,
    );
  }
  const run = document.run as Partial<RunMetadata> | undefined;
  if (
    typeof document.incarnation !== "string" ||
    !/^[0-9a-f]{16}$/.test(document.incarnation) ||
    typeof run !== "object" ||
    run === null ||
    !Number.isSafeInteger(run.headStep) ||
    typeof run.createdAt !== "string" ||
    typeof run.status !== "string"
  ) {
    throw new CorruptRecordError(location, "the run document lacks its incarnation or metadata");
  }
  return document as RunDocument;
}

export function readStepRecord(text: string, location: string): StepRecord {
  const record = parseJson(text, location) as Partial<StepRecord> | null;
  if (typeof record !== "object" || record === null || !Number.isSafeInteger(record.step)) {
    throw new CorruptRecordError(location, "it is not a step record");
  }
  return record as StepRecord;
}

/** An index entry's body: for people browsing the bucket; listings read only keys. */
export function indexEntry(run: RunMetadata, step?: number): string {
  return JSON.stringify({
    workflowId: run.workflowId,
    runId: run.runId,
    createdAt: run.createdAt,
    step,
  });
}

/** A workflow marker's body: the id its key encodes. */
export function workflowMarker(workflowId: string): string {
  return JSON.stringify({ workflowId });
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
