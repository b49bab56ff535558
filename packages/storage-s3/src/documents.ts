/**
 * The JSON stored in objects: the run document (`run.json`), step records,
 * the fence a deleted run leaves, index entries and workflow markers, and
 * reading them back through core's record checks, naming the `s3://` key of
 * a record that cannot be read.
 */
import {
  CorruptRecordError,
  RUN_STATUSES,
  type RunMetadata,
  type RunStatus,
  type StepRecord,
} from "@wf/core";
import { checkRunMetadata, checkStepRecord, parseRecordJson } from "@wf/core/storage";
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
/** User metadata of a fence: the object deleteRun leaves where the run's next step would go (see run-deletion.ts). */
export const FENCE = "wf-fence";

const INCARNATION = /^[0-9a-f]{16}$/;

/** What a run's ids are, for checking that a record is the one asked for. */
export interface RunIds {
  workflowId: string;
  runId: string;
}

export function runDocument(run: RunMetadata, incarnation: string, deleting = false): string {
  const document: RunDocument = { layout: LAYOUT_VERSION, incarnation, run };
  if (deleting) document.deleting = true;
  return JSON.stringify(document);
}

/** The run document in `text`, checked; CORRUPT_RECORD at `location` if it is not one, or not this run's. */
export function readRunDocument(text: string, location: string, ids: RunIds): RunDocument {
  const document = parseRecordJson(text, location) as Partial<RunDocument> | null;
  if (typeof document !== "object" || document === null || typeof document.layout !== "number") {
    throw new CorruptRecordError(location, "it is not a run document (no layout number)");
  }
  if (document.layout > LAYOUT_VERSION) {
    throw new CorruptRecordError(
      location,
      `it was written in layout ${document.layout} by a newer @wf/storage-s3 (this one reads layout ${LAYOUT_VERSION}); upgrade`,
    );
  }
  if (typeof document.incarnation !== "string" || !INCARNATION.test(document.incarnation)) {
    throw new CorruptRecordError(location, "the run document lacks its incarnation");
  }
  if (document.deleting !== undefined && document.deleting !== true) {
    throw new CorruptRecordError(location, `"deleting" is ${String(document.deleting)}, not true`);
  }
  checkRunMetadata(document.run, location, ids);
  return document as RunDocument;
}

/**
 * The incarnation a run document names, read as leniently as possible: what
 * deleteRun needs of a document whose metadata is damaged. Null if even that
 * cannot be read.
 */
export function incarnationOf(text: string): string | null {
  try {
    const incarnation = (JSON.parse(text) as { incarnation?: unknown } | null)?.incarnation;
    return typeof incarnation === "string" && INCARNATION.test(incarnation) ? incarnation : null;
  } catch {
    return null;
  }
}

/** The step record in `text`, checked to be step `step` of this run. */
export function readStepRecord(
  text: string,
  location: string,
  expected: RunIds & { step: number },
): StepRecord {
  return checkStepRecord(parseRecordJson(text, location), location, expected);
}

export function stepMetadata(record: StepRecord): Record<string, string> {
  return {
    [STEP_STATUS]: String(record.status),
    [STEP_CREATED_AT]: encodeURIComponent(String(record.createdAt)),
  };
}

/** What a step object's metadata says of the run, or null if it has none of ours (written by another tool). */
export function readStepMetadata(
  metadata: Record<string, string>,
  location: string,
): { status: RunStatus; createdAt: string } | null {
  const status = metadata[STEP_STATUS];
  const encoded = metadata[STEP_CREATED_AT];
  if (status === undefined && encoded === undefined) return null;
  if (!RUN_STATUSES.includes(status as RunStatus)) {
    throw new CorruptRecordError(
      location,
      `its metadata x-amz-meta-${STEP_STATUS} is ${JSON.stringify(status)}, not one of ${RUN_STATUSES.join(", ")}`,
    );
  }
  let createdAt: string | null = null;
  try {
    createdAt = encoded === undefined ? null : decodeURIComponent(encoded);
  } catch {
    // Reported below.
  }
  if (createdAt === null || Number.isNaN(Date.parse(createdAt))) {
    throw new CorruptRecordError(
      location,
      `its metadata x-amz-meta-${STEP_CREATED_AT} is ${JSON.stringify(encoded)}, not a time`,
    );
  }
  return { status: status as RunStatus, createdAt };
}

export function isFence(metadata: Record<string, string>): boolean {
  return metadata[FENCE] !== undefined;
}

/** A fence's body: for people browsing the bucket; the store reads only its metadata. */
export function fenceBody(ids: RunIds, incarnation: string, step: number): string {
  return JSON.stringify({
    fence: "this run was deleted: no step can be appended here",
    workflowId: ids.workflowId,
    runId: ids.runId,
    incarnation,
    step,
  });
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
