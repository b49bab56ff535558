/**
 * Hostile answers to a waiting run: any value under the request id the node
 * chose (hostile too), beside hostile extra keys. A JSON answer round-trips
 * exactly into the journal's `inputs` and the state; input JSON cannot hold,
 * or keyed by what is no request id, is refused with a typed error and
 * appends nothing; input without an answer appends nothing; a request id
 * the engine refuses is a typed error.
 */
import { assertValidRequestId, type SharedState, WorkflowEngine } from "@wf/core";
import fc from "fast-check";
import { askWorkflow, type HostileContext } from "./context.js";
import type { HostileProperty } from "./property.js";
import { hostileString, jsonFaithful, stateValue } from "./values.js";
import {
  attempt,
  expectCode,
  expectOk,
  isTyped,
  sameJson,
  show,
  succeededOrTyped,
  violated,
} from "./verdict.js";

interface InputCase {
  requestId: string | undefined;
  answered: boolean;
  answer: unknown;
  extras: [string, unknown][];
}

function isRequestId(key: string): boolean {
  try {
    assertValidRequestId(key);
    return true;
  } catch {
    return false;
  }
}

function own(target: object, key: string): unknown {
  return Object.getOwnPropertyDescriptor(target, key)?.value;
}

async function answer(context: HostileContext, value: InputCase): Promise<void> {
  const { storage } = context;
  const scratch = context.newScratch();
  const headOf = async (runId: string) => (await storage.getRun(scratch, runId)).headStep;
  const definition = { ...askWorkflow(scratch, value.requestId), storage };
  const engine = await WorkflowEngine.create(definition);
  const asked = await attempt(() => engine.step());
  if (!succeededOrTyped(asked, `asking under ${show(value.requestId)}`)) return;
  if (engine.status === "failed") {
    // The engine may refuse the request id by failing the node: with a typed error.
    if (!isTyped(engine.error)) violated(`asking under ${show(value.requestId)} failed untyped`);
    return;
  }
  const awaiting = engine.awaitingInput;
  if (!awaiting) return violated(`the run did not wait for input but is ${engine.status}`);
  const requestId = awaiting.requestId;
  if (value.requestId !== undefined && requestId !== value.requestId) {
    violated(
      `the node asked under ${show(value.requestId)} but the run waits under ${show(requestId)}`,
    );
  }

  const input: Record<string, unknown> = {};
  const define = (key: string, item: unknown) =>
    Object.defineProperty(input, key, {
      value: item,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  for (const [key, item] of value.extras) if (key !== requestId) define(key, item);
  if (value.answered) define(requestId, value.answer);
  const head = await headOf(engine.runId);
  const stepped = await attempt(() => engine.step(input));
  const refusedCleanly = async (codes: string[], what: string) => {
    expectCode(stepped, codes, what);
    if ((await headOf(engine.runId)) !== head) violated(`${what} was refused, yet appended`);
    if (engine.status !== "waiting_for_input")
      violated(`${what} was refused, yet the run is ${engine.status}`);
  };

  const keysValid = Object.keys(input).every(isRequestId);
  if (!jsonFaithful(input))
    return refusedCleanly(["NOT_SERIALIZABLE", "INVALID_ID"], `step(${show(input)})`);
  if (!keysValid && !stepped.ok) return refusedCleanly(["INVALID_ID"], `step(${show(input)})`);
  if (!value.answered || value.answer === undefined) {
    if (!stepped.ok) return refusedCleanly(["UNEXPECTED_INPUT"], "a step without an answer");
    if (stepped.value) violated("a step without an answer went on");
    if ((await headOf(engine.runId)) !== head) violated("input without an answer appended");
    return;
  }
  expectOk(stepped, `answering ${show(requestId)} with ${show(value.answer)}`);
  if (engine.status !== "completed") violated(`the answered run is ${engine.status}`);
  const record = await storage.getLatestStep(scratch, engine.runId);
  if (!sameJson(own(record.inputs, requestId), value.answer)) {
    violated(`the journal's inputs read back ${show(record.inputs)}`);
  }
  if (!sameJson((record.shared as SharedState).answer, value.answer)) {
    violated(`the journal's state read back ${show(record.shared)}`);
  }
  const reopened = await WorkflowEngine.create({ ...definition, runId: engine.runId });
  if (!sameJson(reopened.shared.answer, value.answer)) {
    violated(`a reopened engine has ${show(reopened.shared)}`);
  }
  expectOk(await attempt(() => storage.deleteRun(scratch, engine.runId)), "deleteRun");
}

export const inputsProperty: HostileProperty<InputCase> = {
  name: "inputs",
  claim: "answers: exact round trip, or typed and nothing appended",
  arbitrary() {
    return fc.record({
      requestId: fc.option(hostileString(), { nil: undefined, freq: 2 }),
      answered: fc.oneof(
        { weight: 4, arbitrary: fc.constant(true) },
        { weight: 1, arbitrary: fc.constant(false) },
      ),
      answer: stateValue(),
      extras: fc.array(fc.tuple(hostileString(), stateValue()), { maxLength: 2 }),
    });
  },
  check: answer,
};
