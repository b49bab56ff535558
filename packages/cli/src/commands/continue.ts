import {
  type JsonValue,
  type RunStatus,
  readTimelineStep,
  WorkflowEngine,
  type WorkflowStorage,
} from "@wf/core";
import type { Command } from "commander";
import { checkId, parseCount, parseStep } from "../context.js";
import { loadDefinitions, pickDefinition } from "../definition-module.js";
import { OperationalError, UsageError } from "../errors.js";
import { plainText } from "../output.js";
import type { Action } from "../program.js";
import { printSteps, type StepSummary, stepSummary } from "../summaries.js";

/**
 * `id=value`: the value is read as JSON when it is JSON (`n=3`, `ok=true`,
 * `tags=["a"]`), else taken as a string (`approve=yes`).
 */
export function parseAnswer(text: string): [string, JsonValue] {
  const equals = text.indexOf("=");
  if (equals <= 0) {
    throw new UsageError(
      `An answer is <request id>=<value>, such as approve=yes; got ${JSON.stringify(text)}.`,
    );
  }
  const raw = text.slice(equals + 1);
  let value: JsonValue;
  try {
    value = JSON.parse(raw) as JsonValue;
  } catch {
    value = raw;
  }
  return [text.slice(0, equals), value];
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

interface ContinueOptions {
  definition: string;
  from?: string;
  answer?: string[];
  maxSteps?: string;
}

/** Runs `engine` on until it stops (or `maxSteps` steps), feeding the answers to its first step. */
async function runOn(
  engine: WorkflowEngine,
  answers: Record<string, JsonValue>,
  maxSteps: number | undefined,
): Promise<RunStatus> {
  let input: Record<string, JsonValue> | undefined =
    Object.keys(answers).length > 0 ? answers : undefined;
  for (let steps = 0; maxSteps === undefined || steps < maxSteps; steps += 1) {
    const more = await engine.step(input);
    input = undefined;
    if (!more) break;
  }
  return engine.status;
}

/** The records the run stores above `after`, in step order: read one by one, so a long run is not listed. */
async function newSteps(
  storage: WorkflowStorage,
  engine: WorkflowEngine,
  after: number,
): Promise<StepSummary[]> {
  const steps: StepSummary[] = [];
  for (let step = after + 1; step <= engine.headStep; step += 1) {
    const record = await storage.getStep(engine.workflowId, engine.runId, step);
    steps.push(stepSummary({ record, storedIn: engine.runId, superseded: false }));
  }
  return steps;
}

type Mode = "resume" | "fork" | "answer";

/**
 * Refuses, before anything is written, to continue from a cancel step: the
 * engine stands still on it (a resume does nothing, a fork would start a run
 * that is cancelled from birth). Says which step to continue from instead.
 * A step that cannot be read is left for WorkflowEngine.create to report.
 */
async function refuseCancelled(
  storage: WorkflowStorage,
  workflowId: string,
  runId: string,
  from: number | undefined,
  definition: string,
): Promise<void> {
  const record = await storage
    .getRun(workflowId, runId)
    .then((run) => readTimelineStep(storage, run, from ?? run.headStep))
    .catch(() => null);
  if (record?.status !== "cancelled") return;
  const reason = record.error?.message;
  const before = record.parent;
  const next =
    before === null
      ? "Start a new run instead."
      : `Continue from the step before the cancel: \`wf resume ${workflowId} ${runId} --from ${before} --definition ${definition}\` (a new branch of this run), or \`wf fork ${workflowId} ${runId} --from ${before} --definition ${definition}\` (a new run).`;
  throw new OperationalError(
    `Run ${runId} of ${workflowId} is cancelled at step ${record.step}${reason === undefined ? "" : ` (${JSON.stringify(plainText(reason))})`}: continuing from the cancel step does nothing. ${next}`,
  );
}

function register(program: Command, action: Action, mode: Mode): void {
  const command = program.command(mode);
  if (mode === "resume") {
    command.description(
      "run a run on in this process, from its head or --from an earlier step (a new branch; nothing is overwritten)",
    );
  } else if (mode === "fork") {
    command.description(
      "start a new run from a run's head or --from a step, and run it on; the source stays unchanged",
    );
  } else {
    command.description("answer a waiting run's question(s) and run it on");
  }
  command.argument("<workflow>", "workflow id").argument("<run>", "run id");
  if (mode === "answer")
    command.argument("<answers...>", "<request id>=<value> (JSON, else a string)");
  command.requiredOption("--definition <module>", "module exporting the workflow definition");
  if (mode !== "answer") {
    command
      .option("--from <n>", "the step to continue from (default: the head)")
      .option("--answer <id=value>", "an answer for the first step (repeatable)", collect);
  }
  command.option(
    "--max-steps <n>",
    "stop after this many steps (default: until the run completes, fails or waits)",
  );
  command.action(
    action(async (context, workflow: string, runArg: string, ...rest: unknown[]) => {
      const options = rest.at(-1) as ContinueOptions;
      const answerTexts = mode === "answer" ? (rest[0] as string[]) : (options.answer ?? []);
      const workflowId = checkId(workflow, "workflow");
      const runId = checkId(runArg, "run");
      const resumeFrom = options.from === undefined ? undefined : parseStep(options.from, "--from");
      const maxSteps =
        options.maxSteps === undefined ? undefined : parseCount(options.maxSteps, "--max-steps");
      const answers = Object.fromEntries(answerTexts.map(parseAnswer));
      const definition = pickDefinition(
        await loadDefinitions(options.definition),
        workflowId,
        options.definition,
      );
      const storage = await context.store();
      await refuseCancelled(storage, workflowId, runId, resumeFrom, options.definition);
      const engine = await WorkflowEngine.create({
        ...definition,
        storage,
        runId,
        resumeFrom,
        fork: mode === "fork",
      });
      // A fork's first record (step k) is new too.
      const before = mode === "fork" ? engine.currentStep - 1 : engine.headStep;
      const status = await runOn(engine, answers, maxSteps);
      const steps = await newSteps(storage, engine, before);
      const waitingFor = engine.awaitingInput;
      printSteps(
        context.out,
        context.json,
        {
          workflowId,
          runId: engine.runId,
          forkedFrom: engine.forkedFrom,
          status,
          headStep: engine.headStep,
          awaitingInput: waitingFor,
        },
        steps,
      );
      if (!context.json) {
        const made = mode === "fork" ? `Forked ${runId} into ${engine.runId}; ` : "";
        context.out.note(
          `${made}run ${engine.runId} is ${status} at step ${engine.headStep} (${steps.length} new step(s)).`,
        );
        if (waitingFor) {
          context.out.note(
            `It waits for "${waitingFor.requestId}": ${waitingFor.prompt}${waitingFor.options ? ` (${waitingFor.options.map((option) => JSON.stringify(option)).join(" | ")})` : ""}. Answer with: wf answer ${workflowId} ${engine.runId} ${waitingFor.requestId}=<value> --definition ${options.definition}`,
          );
        }
      }
    }),
  );
}

export function registerContinue(program: Command, action: Action): void {
  register(program, action, "resume");
  register(program, action, "fork");
  register(program, action, "answer");
}
