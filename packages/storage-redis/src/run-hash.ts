/**
 * How a run's hash is read back. It holds the metadata JSON as created
 * (`run`), the bookkeeping appends advance (`head`, `status`, `updatedAt`),
 * the first stored step (`first`), the run's index entry (`member`) and one
 * field per step record. Records go through core's checks; the bookkeeping
 * fields are checked here, so a damaged one is CORRUPT_RECORD naming the key
 * and field instead of a NaN head or a wrong status.
 */
import {
  CorruptRecordError,
  RUN_STATUSES,
  type RunMetadata,
  type RunStatus,
  type StepRecord,
} from "@wf/core";
import { checkRunMetadata, checkStepRecord, parseRecordJson } from "@wf/core/storage";

/** Hash fields getRun reads: the metadata as created, then the fields appends change. */
export const METADATA_FIELDS = ["run", "head", "status", "updatedAt"] as const;

/** Where a field of a hash lives, as CORRUPT_RECORD names it. */
export function hashFieldLocation(key: string, field: string): string {
  return `${key} field ${field}`;
}

/** Decimal without leading zeros, at most 15 digits so it is exact as a number; the scripts check the same. */
const STEP_NUMBER = /^(?:0|[1-9][0-9]{0,14})$/;

function shown(text: string | null): string {
  return text === null ? "nothing" : `the string ${JSON.stringify(text.slice(0, 40))}`;
}

function damagedField(key: string, field: string, text: string | null, expected: string): never {
  throw new CorruptRecordError(
    hashFieldLocation(key, field),
    text === null ? "the field is missing" : `it holds ${shown(text)}, not ${expected}`,
  );
}

/** The step number a bookkeeping field (`head`, `first`) holds. */
export function storedStepNumber(key: string, field: string, text: string | null): number {
  if (text === null || !STEP_NUMBER.test(text)) damagedField(key, field, text, "a step number");
  return Number(text);
}

/**
 * The run metadata from HMGET of METADATA_FIELDS: the JSON as created,
 * checked as core checks metadata, with the head, status and update time
 * appends keep beside it, each checked.
 */
export function readMetadata(
  key: string,
  fields: readonly (string | null)[],
  expected: { workflowId: string; runId: string },
): RunMetadata {
  const [text = null, head = null, status = null, updatedAt = null] = fields;
  const location = hashFieldLocation(key, "run");
  if (text === null) throw new CorruptRecordError(location, "the run's metadata is missing");
  const run = checkRunMetadata(parseRecordJson(text, location), location, expected);
  run.headStep = storedStepNumber(key, "head", head);
  if (!RUN_STATUSES.includes(status as RunStatus)) {
    damagedField(key, "status", status, "a run status");
  }
  run.status = status as RunStatus;
  if (updatedAt === null || Number.isNaN(Date.parse(updatedAt))) {
    damagedField(key, "updatedAt", updatedAt, "a time");
  }
  run.updatedAt = updatedAt;
  return run;
}

/** Step `step` of a run from its field's text, checked to be that step of that run. */
export function readStep(
  key: string,
  text: string,
  expected: { workflowId: string; runId: string; step: number },
): StepRecord {
  const location = hashFieldLocation(key, String(expected.step));
  return checkStepRecord(parseRecordJson(text, location), location, expected);
}
