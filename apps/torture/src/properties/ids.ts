/**
 * Hostile ids, step numbers, cursors and limits, through the engine and
 * straight into every storage method. An id the one id rule accepts
 * round-trips exactly; any other is INVALID_ID on every store; an id can
 * never reach another run; bad step numbers and limits are typed errors or
 * RangeError/TypeError; forged cursors are INVALID_CURSOR.
 */
import { isValidId, type StepRecord, WorkflowEngine, type WorkflowStorage } from "@wf/core";
import { sampleRun, sampleStep } from "@wf/storage-conformance";
import fc from "fast-check";
import { listRunIds, readSteps } from "../journal.js";
import { type HostileContext, linearWorkflow } from "./context.js";
import type { HostileProperty } from "./property.js";
import { hostileCursor, hostileLimit, hostileStep, hostileString } from "./values.js";
import {
  attempt,
  equalData,
  expectCode,
  expectOk,
  type Outcome,
  sameJson,
  show,
  succeededOrTyped,
  violated,
} from "./verdict.js";

interface IdCase {
  id: string;
  step: unknown;
  cursor: unknown;
  limit: unknown;
}

/** A valid id round-trips through the engine: create, reopen, run, list, delete. */
async function engineRoundTrip(storage: WorkflowStorage, id: string): Promise<void> {
  const definition = { ...linearWorkflow(id), storage };
  const created = await attempt(() => WorkflowEngine.create(definition));
  if (!isValidId(id))
    return expectCode(created, ["INVALID_ID"], `create with workflowId ${show(id)}`);
  const { runId } = expectOk(created, `create with workflowId ${show(id)}`);
  const reopened = expectOk(
    await attempt(() => WorkflowEngine.create({ ...definition, runId })),
    `reopening run ${runId} of workflow ${show(id)}`,
  );
  const status = expectOk(await attempt(() => reopened.run()), "run()");
  if (status !== "completed") violated(`the run of workflow ${show(id)} ended ${status}`);
  const run = expectOk(await attempt(() => storage.getRun(id, runId)), `getRun(${show(id)})`);
  if (run.workflowId !== id || run.runId !== runId || run.headStep !== 3) {
    violated(
      `getRun(${show(id)}) read back ${show(run.workflowId)}/${run.runId} at ${run.headStep}`,
    );
  }
  const listed = expectOk(await attempt(() => listRunIds(storage, id)), `listRuns(${show(id)})`);
  if (!listed.runIds.includes(runId)) violated(`listRuns(${show(id)}) misses its run`);
  expectOk(await attempt(() => storage.deleteRun(id, runId)), `deleteRun(${show(id)})`);
  expectCode(
    await attempt(() => storage.getRun(id, runId)),
    ["RUN_NOT_FOUND"],
    `getRun after deleteRun(${show(id)})`,
  );
}

/** A valid id round-trips through the contract directly; an invalid one is INVALID_ID and writes nothing. */
async function directRoundTrip(storage: WorkflowStorage, workflowId: string, runId: string) {
  const what = `createRun(${show(workflowId)}, ${show(runId)})`;
  const run = sampleRun(workflowId, runId);
  const first = sampleStep(workflowId, runId, 0);
  const created = await attempt(() => storage.createRun(run, first));
  if (!isValidId(workflowId) || !isValidId(runId)) return expectCode(created, ["INVALID_ID"], what);
  expectOk(created, what);
  const second = sampleStep(workflowId, runId, 1);
  expectOk(await attempt(() => storage.appendStep(second)), `appendStep after ${what}`);
  const read = expectOk(
    await attempt(() => storage.getRun(workflowId, runId)),
    `getRun after ${what}`,
  );
  const expected = { ...run, headStep: 1, updatedAt: second.createdAt };
  if (!equalData(read, expected)) violated(`getRun after ${what} read back ${show(read)}`);
  const steps = expectOk(await attempt(() => readSteps(storage, workflowId, runId)), "listSteps");
  if (!sameJson(steps, [first, second]))
    violated(`listSteps after ${what} read back ${show(steps)}`);
  const latest = expectOk(
    await attempt(() => storage.getLatestStep(workflowId, runId)),
    "getLatestStep",
  );
  if (!sameJson(latest, second)) violated(`getLatestStep after ${what} read back ${show(latest)}`);
  expectOk(await attempt(() => storage.deleteRun(workflowId, runId)), `deleteRun after ${what}`);
}

/** Every run-level call naming a run that does not exist: RUN_NOT_FOUND, or INVALID_ID for an invalid id. */
async function absentRuns(
  storage: WorkflowStorage,
  id: string,
  canaryWorkflow: string,
  canaryRun: string,
) {
  const expected = isValidId(id) ? "RUN_NOT_FOUND" : "INVALID_ID";
  const calls: [string, () => Promise<unknown>][] = [
    ["getRun(canary workflow, id)", () => storage.getRun(canaryWorkflow, id)],
    ["getRun(id, canary run)", () => storage.getRun(id, canaryRun)],
    ["getStep(canary workflow, id, 0)", () => storage.getStep(canaryWorkflow, id, 0)],
    ["getLatestStep(canary workflow, id)", () => storage.getLatestStep(canaryWorkflow, id)],
    ["getLatestStep(id, canary run)", () => storage.getLatestStep(id, canaryRun)],
    ["listSteps(canary workflow, id)", () => storage.listSteps(canaryWorkflow, id)],
    ["appendStep(step 1 of id)", () => storage.appendStep(sampleStep(canaryWorkflow, id, 1))],
    ["deleteRun(canary workflow, id)", () => storage.deleteRun(canaryWorkflow, id)],
    ["deleteRun(id, canary run)", () => storage.deleteRun(id, canaryRun)],
    [
      "create({ runId: id })",
      () => WorkflowEngine.create({ ...linearWorkflow(canaryWorkflow), storage, runId: id }),
    ],
  ];
  for (const [what, call] of calls) {
    expectCode(await attempt(call), [expected], `${what} with id ${show(id)}`);
  }
  const listed = await attempt(() => storage.listRuns(id));
  if (isValidId(id)) {
    const page = expectOk(listed, `listRuns(${show(id)})`);
    if (page.items.length > 0) violated(`listRuns(${show(id)}) lists runs of another workflow`);
  } else {
    expectCode(listed, ["INVALID_ID"], `listRuns(${show(id)})`);
  }
}

/** getStep of a canary with a hostile step number. */
async function hostileStepRead(storage: WorkflowStorage, steps: StepRecord[], step: unknown) {
  const { workflowId, runId } = steps[0] as StepRecord;
  const what = `getStep(canary, ${show(step)})`;
  const outcome = await attempt(() => storage.getStep(workflowId, runId, step as number));
  if (typeof step === "number" && Number.isSafeInteger(step) && step >= 0) {
    const stored = steps.find((record) => record.step === step);
    if (!stored) return expectCode(outcome, ["STEP_NOT_FOUND"], what);
    const read = expectOk(outcome, what);
    if (!sameJson(read, stored)) violated(`${what} read back another record`);
    return;
  }
  if (succeededOrTyped(outcome, what)) violated(`${what} succeeded for a step number that is none`);
}

/** The three listings with a hostile cursor and limit. */
async function hostileListings(
  storage: WorkflowStorage,
  canaryWorkflow: string,
  canaryRun: string,
  cursor: unknown,
  limit: unknown,
) {
  const options = { cursor, limit } as { cursor?: string | null; limit?: number };
  const validLimit = limit === undefined || (Number.isInteger(limit) && (limit as number) > 0);
  const cap = limit === undefined ? 100 : Math.min(limit as number, 1000);
  const listings: [string, () => Promise<{ items: unknown[] }>][] = [
    ["listSteps", () => storage.listSteps(canaryWorkflow, canaryRun, options)],
    ["listRuns", () => storage.listRuns(canaryWorkflow, options)],
    ["listWorkflows", () => storage.listWorkflows(options)],
  ];
  for (const [name, list] of listings) {
    const what = `${name}({ cursor: ${show(cursor)}, limit: ${show(limit)} })`;
    const outcome: Outcome<{ items: unknown[] }> = await attempt(list);
    if (validLimit && (cursor === null || cursor === undefined)) {
      const page = expectOk(outcome, what);
      if (page.items.length > cap) violated(`${what} returned ${page.items.length} items`);
    } else if (succeededOrTyped(outcome, what) && !validLimit) {
      violated(`${what} accepted a limit that is not a positive integer`);
    }
  }
}

export const idsProperty: HostileProperty<IdCase> = {
  name: "ids",
  claim: "ids, step numbers, cursors, limits: exact round trip or typed error",
  arbitrary(context: HostileContext) {
    const near = context.canaries.flatMap((canary) => [canary.workflowId, canary.runId]);
    return fc.record({
      id: hostileString(near),
      step: hostileStep,
      cursor: hostileCursor,
      limit: hostileLimit,
    });
  },
  async check(context, { id, step, cursor, limit }) {
    const { storage } = context;
    const canary = context.canaries[0] as { workflowId: string; runId: string };
    const known = context.canaries.flatMap((c) => [c.workflowId, c.runId]);
    if (known.includes(id) || id.startsWith(context.scratch)) return;
    await engineRoundTrip(storage, id);
    await directRoundTrip(storage, canary.workflowId, id);
    await directRoundTrip(storage, id, "20260101_000000_000_0123456789ab");
    await absentRuns(storage, id, canary.workflowId, canary.runId);
    const canarySteps = await readSteps(storage, canary.workflowId, canary.runId);
    await hostileStepRead(storage, canarySteps, step);
    await hostileListings(storage, canary.workflowId, canary.runId, cursor, limit);
  },
};
