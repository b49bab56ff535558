/**
 * Damaged records: garbage, torn or mutated JSON, another record, or nothing
 * written straight into the store's backing files, rows or keys, then read
 * through the API. Every read returns the record as stored (the original, or
 * the replacement when that is itself a valid record for its place) or fails
 * with a typed error; a listing of steps never skips a hole; listRuns still
 * lists the healthy runs and shows the damaged one; deleteRun removes it.
 */
import { type RunMetadata, type StepRecord, WorkflowEngine } from "@wf/core";
import { checkRunMetadata, checkStepRecord } from "@wf/core/storage";
import fc from "fast-check";
import { listRunIds, readSteps } from "../journal.js";
import { type HostileContext, linearWorkflow } from "./context.js";
import type { HostileProperty } from "./property.js";
import {
  attempt,
  expectCode,
  expectOk,
  type Outcome,
  sameJson,
  show,
  succeededOrTyped,
  violated,
} from "./verdict.js";

/** The victim run: a → b → c, steps 0..3. */
const HEAD = 3;
const FIELDS = [
  "formatVersion",
  "workflowId",
  "runId",
  "step",
  "parent",
  "createdAt",
  "status",
  "nodeStatuses",
  "shared",
  "headStep",
  "definition",
  "error",
  "awaitingInput",
  "__proto__",
  "extra",
];

type Damage =
  | { kind: "garbage"; text: string }
  | { kind: "torn"; keep: number }
  | { kind: "field"; field: string; value: unknown }
  | { kind: "swap"; with: "another step" | "another run" | "a canary" }
  | { kind: "wrap"; how: "array" | "string" | "null" | "number" | "trailing" | "nested" }
  | { kind: "remove" };

interface DamageCase {
  record: "metadata" | number;
  damage: Damage;
}

const damageArbitrary: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({
    kind: fc.constant("garbage" as const),
    text: fc.string({ unit: "binary", maxLength: 40 }),
  }),
  fc.record({
    kind: fc.constant("torn" as const),
    keep: fc.double({ min: 0, max: 0.999, noNaN: true }),
  }),
  fc.record({
    kind: fc.constant("field" as const),
    field: fc.constantFrom(...FIELDS),
    value: fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }),
  }),
  fc.record({
    kind: fc.constant("swap" as const),
    with: fc.constantFrom("another step" as const, "another run" as const, "a canary" as const),
  }),
  fc.record({
    kind: fc.constant("wrap" as const),
    how: fc.constantFrom(
      "array" as const,
      "string" as const,
      "null" as const,
      "number" as const,
      "trailing" as const,
      "nested" as const,
    ),
  }),
  fc.constant({ kind: "remove" as const }),
);

/** The texts a damage can draw from. */
interface Originals {
  text: string;
  otherStep: string;
  otherRun: string;
  canary: string;
}

/** The text to store in place of the original, or null to remove it. */
function damagedText(damage: Damage, originals: Originals): string | null {
  const { text } = originals;
  switch (damage.kind) {
    case "garbage":
      return damage.text;
    case "torn":
      return text.slice(0, Math.floor(damage.keep * text.length));
    case "field": {
      const record = JSON.parse(text) as Record<string, unknown>;
      if (damage.value === undefined) delete record[damage.field];
      else
        Object.defineProperty(record, damage.field, {
          value: damage.value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      return JSON.stringify(record);
    }
    case "swap":
      return damage.with === "another step"
        ? originals.otherStep
        : damage.with === "another run"
          ? originals.otherRun
          : originals.canary;
    case "wrap":
      return {
        array: `[${text}]`,
        string: JSON.stringify(text),
        null: "null",
        number: "42",
        trailing: `${text} x`,
        nested: `{"record":${text}}`,
      }[damage.how];
    case "remove":
      return null;
  }
}

/** The replacement as a record, when it is a valid one for its place; else null. */
function validReplacement(
  text: string | null,
  workflowId: string,
  runId: string,
  record: DamageCase["record"],
) {
  if (text === null) return null;
  try {
    const parsed = JSON.parse(text) as unknown;
    return record === "metadata"
      ? checkRunMetadata(parsed, "replacement", { workflowId, runId })
      : checkStepRecord(parsed, "replacement", { workflowId, runId, step: record });
  } catch {
    return null;
  }
}

async function damageCase(context: HostileContext, { record, damage }: DamageCase): Promise<void> {
  const { storage, target } = context;
  const workflowId = context.newScratch();
  const definition = { ...linearWorkflow(workflowId), storage };
  const victim = await WorkflowEngine.create(definition);
  await victim.run();
  const neighbour = await WorkflowEngine.create(definition);
  const { runId } = victim;
  const steps = await readSteps(storage, workflowId, runId);
  const metadata = await storage.getRun(workflowId, runId);
  const canary = context.canaries[0] as { workflowId: string; runId: string };
  const textOf = (value: unknown) => JSON.stringify(value);
  const originals: Originals =
    record === "metadata"
      ? {
          text: textOf(metadata),
          otherStep: textOf(steps[0]),
          otherRun: textOf(await storage.getRun(workflowId, neighbour.runId)),
          canary: textOf(await storage.getRun(canary.workflowId, canary.runId)),
        }
      : {
          text: textOf(steps[record]),
          otherStep: textOf(steps[(record + 1) % (HEAD + 1)]),
          otherRun: textOf(await storage.getStep(workflowId, neighbour.runId, 0)),
          canary: textOf(await storage.getStep(canary.workflowId, canary.runId, 0)),
        };
  let text = damagedText(damage, originals);
  if (text === null && record === "metadata") text = "";
  await target.damage({ workflowId, runId, record }, text);
  const replacement = validReplacement(text, workflowId, runId, record);
  const removed = text === null ? (record as number) : null;

  /**
   * A step read back is one that was stored at that place: the original (a
   * store may keep a copy) or the replacement, if that is a valid record there.
   */
  const acceptable = (value: StepRecord, what: string) => {
    const original = steps[value.step];
    const stored =
      (original !== undefined && sameJson(value, original)) ||
      (value.step === record && replacement !== null && sameJson(value, replacement));
    if (!stored) violated(`${what} read back ${show(value)} after ${show(text)} was stored`);
  };
  const read = async <T>(what: string, call: () => Promise<T>, check: (value: T) => void) => {
    const outcome: Outcome<T> = await attempt(call);
    if (succeededOrTyped(outcome, what) && outcome.ok) check(outcome.value);
  };

  for (let step = 0; step <= HEAD; step++) {
    await read(
      `getStep(${step})`,
      () => storage.getStep(workflowId, runId, step),
      (value) => {
        if (value.step !== step) violated(`getStep(${step}) read back step ${value.step}`);
        if (step === removed) violated(`getStep(${step}) read back a removed step`);
        acceptable(value, `getStep(${step})`);
      },
    );
  }
  await read(
    "getLatestStep",
    () => storage.getLatestStep(workflowId, runId),
    (value) => {
      if (value.step === removed) violated("getLatestStep read back a removed step");
      acceptable(value, "getLatestStep");
    },
  );
  await read(
    "listSteps",
    () => readSteps(storage, workflowId, runId),
    (listed) => {
      listed.forEach((value, index) => {
        if (value.step !== index) violated(`listSteps skipped to step ${value.step} at ${index}`);
        acceptable(value, "listSteps");
      });
    },
  );
  await read(
    "getRun",
    () => storage.getRun(workflowId, runId),
    (value: RunMetadata) => {
      try {
        checkRunMetadata(value, "getRun", { workflowId, runId });
      } catch (error) {
        violated(`getRun returned malformed metadata: ${(error as Error).message}`);
      }
      const asStored = [metadata, replacement].some(
        (source) =>
          source !== null &&
          sameJson((source as RunMetadata).definition, value.definition) &&
          (source as RunMetadata).createdAt === value.createdAt,
      );
      if (!asStored) violated(`getRun read back ${show(value)} after ${show(text)} was stored`);
      if (value.headStep > HEAD) violated(`getRun reports head ${value.headStep}`);
    },
  );
  await read(
    "open the run",
    () => WorkflowEngine.create({ ...definition, runId }),
    (engine) => {
      if (engine.currentStep > HEAD)
        violated(`the engine opened the run at step ${engine.currentStep}`);
    },
  );

  // A damaged run never stops a listing, nor hides from it; and it can be deleted.
  const listing = expectOk(await attempt(() => listRunIds(storage, workflowId)), "listRuns");
  if (!listing.runIds.includes(neighbour.runId)) violated("listRuns misses the healthy run");
  if (!listing.runIds.includes(runId) && !listing.damaged.includes(runId)) {
    violated("listRuns neither lists the damaged run nor reports it");
  }
  expectOk(
    await attempt(() => storage.deleteRun(workflowId, runId)),
    "deleteRun of the damaged run",
  );
  expectCode(
    await attempt(() => storage.getRun(workflowId, runId)),
    ["RUN_NOT_FOUND"],
    "getRun after deleteRun",
  );
  expectOk(
    await attempt(() => storage.deleteRun(workflowId, neighbour.runId)),
    "deleteRun of the healthy run",
  );
}

export const damagedProperty: HostileProperty<DamageCase> = {
  name: "damaged",
  claim: "damaged records: read as stored or typed; listed; deletable",
  arbitrary() {
    return fc.record({
      record: fc.constantFrom<"metadata" | number>("metadata", 0, 1, 2, HEAD),
      damage: damageArbitrary,
    });
  },
  check: damageCase,
};
