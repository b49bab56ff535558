import type { StepRecord } from "./journal.js";

/** JSON text of records the engine serialised itself, so the adapter does not do it again. */
const serialised = new WeakMap<StepRecord, string>();

/**
 * The JSON text of `record`, as `JSON.stringify(record)` gives it. A record
 * the engine hands to `appendStep` or `createRun` was serialised already
 * (the engine keeps that text as its committed state), so an adapter that
 * stores JSON calls this instead of `JSON.stringify` and the state is
 * serialised once per step, not twice.
 */
export function stepRecordJson(record: StepRecord): string {
  return serialised.get(record) ?? JSON.stringify(record);
}

/**
 * Serialises a record the engine made and will not change, remembering the
 * text for `stepRecordJson`.
 */
export function serialiseRecord(record: StepRecord): string {
  const json = JSON.stringify(record);
  serialised.set(record, json);
  return json;
}
