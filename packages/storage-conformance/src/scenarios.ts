import {
  IncompatibleStateError,
  type RunMetadata,
  type StepRecord,
  WorkflowEngine,
  type WorkflowStorage,
} from "@wf/core";
import { collectPages } from "./records.js";
import { Decrement, Flaky, flakiness, Increment, linear, reviewLoop } from "./workflows.js";

/**
 * The engine-level scenarios. Each drives the engine through a story on the
 * given store and returns the journal it left, normalised, so it can be
 * compared with the golden journal shipped in `golden/<name>.json`.
 */

export interface ScenarioEnv {
  /** The store to start on. */
  storage: WorkflowStorage;
  /** Simulates a process restart and returns the store to continue with. */
  restart(storage: WorkflowStorage): Promise<WorkflowStorage>;
  workflowId: string;
}

export interface NormalisedJournal {
  runs: { run: RunMetadata; steps: StepRecord[] }[];
}

export interface ScenarioResult {
  journal: NormalisedJournal;
  /** The last store used, still open. */
  storage: WorkflowStorage;
  runIds: string[];
}

type Scenario = (env: ScenarioEnv) => Promise<ScenarioResult>;

/** Reads every run's metadata and stored steps and replaces what legitimately differs between runs of the suite. */
export async function readJournal(
  storage: WorkflowStorage,
  workflowId: string,
  runIds: string[],
): Promise<NormalisedJournal> {
  const names = new Map(runIds.map((runId, i) => [runId, `<run:${i}>`]));
  const runName = (runId: string) => names.get(runId) ?? "<run:?>";
  const runs = [];
  for (const runId of runIds) {
    const run = await storage.getRun(workflowId, runId);
    const steps = await collectPages((cursor) => storage.listSteps(workflowId, runId, { cursor }));
    runs.push({
      run: {
        ...run,
        workflowId: "<workflow>",
        runId: runName(run.runId),
        createdAt: "<time>",
        updatedAt: "<time>",
        forkedFrom: run.forkedFrom && { ...run.forkedFrom, runId: runName(run.forkedFrom.runId) },
      },
      steps: steps.map((record) => ({
        ...record,
        workflowId: "<workflow>",
        runId: runName(record.runId),
        createdAt: "<time>",
        error: record.error && {
          ...record.error,
          stack: record.error.stack === null ? null : "<stack>",
        },
      })),
    });
  }
  return { runs };
}

async function finish(
  env: ScenarioEnv,
  storage: WorkflowStorage,
  runIds: string[],
): Promise<ScenarioResult> {
  return { journal: await readJournal(storage, env.workflowId, runIds), storage, runIds };
}

/** Two steps, a restart, then the run continues from its head to the end. */
const resumeLatest: Scenario = async (env) => {
  const definition = { workflowId: env.workflowId, ...linear(4), initialState: { count: 0 } };
  const first = await WorkflowEngine.create({ ...definition, storage: env.storage });
  await first.step();
  await first.step();
  const storage = await env.restart(env.storage);
  const resumed = await WorkflowEngine.create({ ...definition, storage, runId: first.runId });
  await resumed.run();
  return finish(env, storage, [first.runId]);
};

/** A completed run resumed from step 2: new steps continue after the head with parent 2. */
const resumeFrom: Scenario = async (env) => {
  const definition = { workflowId: env.workflowId, ...linear(4), initialState: { count: 0 } };
  const first = await WorkflowEngine.create({ ...definition, storage: env.storage });
  await first.run();
  const storage = await env.restart(env.storage);
  const resumed = await WorkflowEngine.create({
    ...definition,
    storage,
    runId: first.runId,
    resumeFrom: 2,
  });
  await resumed.run();
  return finish(env, storage, [first.runId]);
};

/** A completed run forked from step 2; the fork runs to the end, the source stays as it was. */
const forkFrom: Scenario = async (env) => {
  const definition = { workflowId: env.workflowId, ...linear(4), initialState: { count: 0 } };
  const source = await WorkflowEngine.create({ ...definition, storage: env.storage });
  await source.run();
  const storage = await env.restart(env.storage);
  const fork = await WorkflowEngine.create({
    ...definition,
    storage,
    runId: source.runId,
    resumeFrom: 2,
    fork: true,
  });
  await fork.run();
  return finish(env, storage, [source.runId, fork.runId]);
};

/**
 * Three nodes run; the definition then loses s2 and retypes s3, so resuming
 * the head fails and writes nothing; resuming from step 1, where only s1 had
 * run, works and follows the new edges.
 */
const validation: Scenario = async (env) => {
  const original = { workflowId: env.workflowId, ...linear(4), initialState: { count: 0 } };
  const first = await WorkflowEngine.create({ ...original, storage: env.storage });
  for (let i = 0; i < 3; i++) await first.step();
  const storage = await env.restart(env.storage);
  const changed = {
    workflowId: env.workflowId,
    nodes: [new Increment({ id: "s1" }), new Decrement({ id: "s3" }), new Increment({ id: "s4" })],
    edges: [
      { from: "s1", to: "s3" },
      { from: "s3", to: "s4" },
    ],
    storage,
  };
  try {
    await WorkflowEngine.create({ ...changed, runId: first.runId });
    throw new Error("resuming with a node removed and a node retyped should have failed");
  } catch (error) {
    if (!(error instanceof IncompatibleStateError)) throw error;
  }
  const resumed = await WorkflowEngine.create({ ...changed, runId: first.runId, resumeFrom: 1 });
  await resumed.run();
  return finish(env, storage, [first.runId]);
};

/**
 * A node asks twice, with restarts between the answers; then a review loop
 * asks again on every pass instead of reusing its first answer.
 */
const humanInput: Scenario = async (env) => {
  const definition = { workflowId: env.workflowId, ...reviewLoop() };
  const first = await WorkflowEngine.create({ ...definition, storage: env.storage });
  await first.run();
  let storage = await env.restart(env.storage);
  const second = await WorkflowEngine.create({ ...definition, storage, runId: first.runId });
  await second.run({ ask: "Ada" });
  storage = await env.restart(storage);
  const third = await WorkflowEngine.create({ ...definition, storage, runId: first.runId });
  await third.run({ "ask#2": "ada@example.com" });
  await third.run({ review: "no" });
  storage = await env.restart(storage);
  const fourth = await WorkflowEngine.create({ ...definition, storage, runId: first.runId });
  await fourth.run({ review: "yes" });
  return finish(env, storage, [first.runId]);
};

/** A node fails after its retries; after a restart with the fault gone, the run retries it and completes. */
const failAndRetry: Scenario = async (env) => {
  const definition = {
    workflowId: env.workflowId,
    nodes: [
      new Increment({ id: "s1" }),
      new Flaky({ id: "call", maxRetries: 1 }),
      new Increment({ id: "s3" }),
    ],
    edges: [
      { from: "s1", to: "call" },
      { from: "call", to: "s3" },
    ],
  };
  flakiness.failuresLeft = 2;
  const first = await WorkflowEngine.create({ ...definition, storage: env.storage });
  await first.run();
  const storage = await env.restart(env.storage);
  flakiness.failuresLeft = 0;
  const retried = await WorkflowEngine.create({ ...definition, storage, runId: first.runId });
  await retried.run();
  return finish(env, storage, [first.runId]);
};

/** A completed run continues when the definition gains an edge out of its last node. */
const extendCompleted: Scenario = async (env) => {
  const short = { workflowId: env.workflowId, ...linear(2) };
  const first = await WorkflowEngine.create({ ...short, storage: env.storage });
  await first.run();
  const storage = await env.restart(env.storage);
  const longer = { workflowId: env.workflowId, ...linear(3) };
  const resumed = await WorkflowEngine.create({ ...longer, storage, runId: first.runId });
  await resumed.run();
  return finish(env, storage, [first.runId]);
};

export const SCENARIOS: Record<string, Scenario> = {
  "resume-latest": resumeLatest,
  "resume-from": resumeFrom,
  "fork-from": forkFrom,
  validation,
  "human-input": humanInput,
  "fail-and-retry": failAndRetry,
  "extend-completed": extendCompleted,
};
