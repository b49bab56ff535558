/**
 * Hostile shared state, as the initial state of a run or written by a node
 * under a hostile key: JSON (unicode, `__proto__` keys, 1 MB strings, 600
 * levels) round-trips exactly through the journal and a reopened engine;
 * what JSON cannot hold (undefined in arrays, Dates, bigints, cycles, …) is
 * refused with NOT_SERIALIZABLE and journals nothing of it.
 */
import { Node, type SharedState, WorkflowEngine } from "@wf/core";
import fc from "fast-check";
import { errorCode } from "../error-text.js";
import { listRunIds } from "../journal.js";
import { type HostileContext, linearWorkflow } from "./context.js";
import type { HostileProperty } from "./property.js";
import { hostileString, jsonFaithful, stateValue } from "./values.js";
import {
  attempt,
  expectCode,
  expectOk,
  sameJson,
  show,
  succeededOrTyped,
  violated,
} from "./verdict.js";

interface StateCase {
  where: "initial" | "update";
  key: string;
  value: unknown;
}

/** Sets `key` to `value` on the state, as data even for `__proto__`. */
class Assign extends Node<
  SharedState,
  unknown,
  unknown,
  { id?: string; key: string; value: unknown }
> {
  override cleanup(shared: SharedState): void {
    define(shared, this.options.key, this.options.value);
  }
}

function define(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

async function initialState(context: HostileContext, key: string, value: unknown): Promise<void> {
  const { storage } = context;
  const scratch = context.newScratch();
  const state: SharedState = {};
  define(state, key, value);
  const definition = { ...linearWorkflow(scratch), storage };
  const created = await attempt(() =>
    WorkflowEngine.create({ ...definition, initialState: state }),
  );
  if (!jsonFaithful(state)) {
    expectCode(created, ["NOT_SERIALIZABLE"], `create with initialState ${show(state)}`);
    const { runIds } = await listRunIds(storage, scratch);
    if (runIds.length > 0) violated("a refused initialState still created a run");
    return;
  }
  const engine = expectOk(created, "create with a JSON initialState");
  const stored = await storage.getStep(scratch, engine.runId, 0);
  if (!sameJson(stored.shared, state)) violated(`step 0 read back ${show(stored.shared)}`);
  const reopened = await WorkflowEngine.create({ ...definition, runId: engine.runId });
  if (!sameJson(reopened.shared, state)) violated(`a reopened engine has ${show(reopened.shared)}`);
  expectOk(await attempt(() => storage.deleteRun(scratch, engine.runId)), "deleteRun");
}

async function updatedState(context: HostileContext, key: string, value: unknown): Promise<void> {
  const { storage } = context;
  const scratch = context.newScratch();
  const definition = {
    workflowId: scratch,
    nodes: [new Assign({ id: "assign", key, value })],
    storage,
  };
  const engine = await WorkflowEngine.create({ ...definition, initialState: {} });
  const expected: SharedState = {};
  define(expected, key, value);
  const stepped = await attempt(() => engine.step());
  if (jsonFaithful(expected)) {
    expectOk(stepped, "a step writing JSON");
    if (engine.status !== "completed") violated(`the step ended ${engine.status}`);
    const record = await storage.getStep(scratch, engine.runId, 1);
    if (!sameJson(record.shared, expected)) violated(`step 1 read back ${show(record.shared)}`);
    const reopened = await WorkflowEngine.create({ ...definition, runId: engine.runId });
    if (!sameJson(reopened.shared, expected))
      violated(`a reopened engine has ${show(reopened.shared)}`);
  } else if (succeededOrTyped(stepped, "a step writing what JSON cannot hold")) {
    // Journalled as a failed step that keeps the state before it.
    if (engine.status !== "failed" || errorCode(engine.error) !== "NOT_SERIALIZABLE") {
      violated(
        `a step writing ${show(expected)} ended ${engine.status}, not failed with NOT_SERIALIZABLE`,
      );
    }
    const record = await storage.getStep(scratch, engine.runId, 1);
    if (record.error?.code !== "NOT_SERIALIZABLE" || !sameJson(record.shared, {})) {
      violated(`the failed step was journalled as ${show(record)}`);
    }
  } else {
    expectCode(stepped, ["NOT_SERIALIZABLE"], "a step writing what JSON cannot hold");
    if ((await storage.getRun(scratch, engine.runId)).headStep !== 0) {
      violated("a refused step still appended");
    }
  }
  expectOk(await attempt(() => storage.deleteRun(scratch, engine.runId)), "deleteRun");
}

export const stateProperty: HostileProperty<StateCase> = {
  name: "state",
  claim: "shared state: exact round trip or NOT_SERIALIZABLE",
  arbitrary() {
    return fc.record({
      where: fc.constantFrom("initial" as const, "update" as const),
      key: fc.oneof(fc.constantFrom("v", "__proto__", "constructor"), hostileString()),
      value: stateValue(),
    });
  },
  async check(context, { where, key, value }) {
    if (where === "initial") await initialState(context, key, value);
    else await updatedState(context, key, value);
  },
};
