#!/usr/bin/env node
import { parseArgs } from "node:util";
import { type StepRecord, WorkflowEngine, type WorkflowError } from "@wf/core";
import { type ArticleState, articleWorkflow } from "./article.js";

/**
 * Each command is one process, as it would be in real life: state lives only
 * in the journal (./logs, the default store), never in memory between commands.
 */

const USAGE = `Usage: wf-quickstart <command>

  start [--topic <text>]                   start a run; it stops when it needs an answer
  answer <runId> <publish|revise>          answer the waiting question and continue
  resume-from <runId> <step> [--answer x]  continue the run from an earlier step
  fork <runId> <step> [--answer x]         start a new run from a step of another
  show <runId> [<otherRunId>]              the timeline of a run (two side by side)
  validate <runId>                         try to resume with the outline node removed

The journal goes to ./logs under the current directory.`;

function describeEngine(engine: WorkflowEngine<ArticleState>): string {
  const lines = [
    `run id: ${engine.runId}`,
    `status: ${engine.status} at step ${engine.currentStep}`,
  ];
  if (engine.awaitingInput) {
    const { prompt, options, requestId } = engine.awaitingInput;
    lines.push(`waiting for "${requestId}": ${prompt} ${options ? `[${options.join("|")}]` : ""}`);
  }
  return lines.join("\n");
}

function stepNumber(value: string | undefined): number {
  const step = Number(value);
  if (value === undefined || !Number.isInteger(step) || step < 0) {
    throw new UsageError(`expected a step number, got ${JSON.stringify(value)}`);
  }
  return step;
}

class UsageError extends Error {}

function timelineRows(history: StepRecord[]): Map<number, string> {
  return new Map(
    history.map((record) => [
      record.step,
      `${record.previousNodeId ?? "(start)"} ${record.status}${record.parent !== null && record.parent !== record.step - 1 ? ` (from ${record.parent})` : ""}`,
    ]),
  );
}

async function show(runIds: string[]): Promise<string> {
  const timelines: Map<number, string>[] = [];
  for (const runId of runIds) {
    const engine = await WorkflowEngine.create({ ...articleWorkflow(), runId });
    timelines.push(timelineRows(await engine.history()));
  }
  const steps = [...new Set(timelines.flatMap((rows) => [...rows.keys()]))].sort((a, b) => a - b);
  const width = 34;
  const header = ["step", ...runIds.map((id) => id.padEnd(width))].join("  ");
  const rows = steps.map((step) =>
    [
      String(step).padStart(4),
      ...timelines.map((rows) => (rows.get(step) ?? "").padEnd(width)),
    ].join("  "),
  );
  return [header, ...rows].join("\n");
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      topic: { type: "string", default: "workflow journals" },
      answer: { type: "string" },
    },
  });
  const [command, ...rest] = positionals;
  const answer = values.answer === undefined ? undefined : { review: values.answer };
  switch (command) {
    case "start": {
      const engine = await WorkflowEngine.create({
        ...articleWorkflow(),
        initialState: { topic: values.topic },
      });
      await engine.run();
      console.log(describeEngine(engine));
      return;
    }
    case "answer": {
      const [runId, decision] = rest;
      if (!runId || !decision) throw new UsageError("answer needs <runId> <publish|revise>");
      const engine = await WorkflowEngine.create({ ...articleWorkflow(), runId });
      if (!engine.awaitingInput)
        throw new UsageError(`run ${runId} is ${engine.status}, not waiting for input`);
      await engine.run({ [engine.awaitingInput.requestId]: decision });
      console.log(describeEngine(engine));
      return;
    }
    case "resume-from":
    case "fork": {
      const [runId, step] = rest;
      if (!runId) throw new UsageError(`${command} needs <runId> <step>`);
      const engine = await WorkflowEngine.create({
        ...articleWorkflow(),
        runId,
        resumeFrom: stepNumber(step),
        fork: command === "fork",
      });
      if (command === "fork") console.log(`forked ${runId} at step ${step}`);
      await engine.run(answer);
      console.log(describeEngine(engine));
      return;
    }
    case "show": {
      if (rest.length === 0) throw new UsageError("show needs a run id");
      console.log(await show(rest));
      return;
    }
    case "validate": {
      const [runId] = rest;
      if (!runId) throw new UsageError("validate needs <runId>");
      await WorkflowEngine.create({ ...articleWorkflow({ withoutOutline: true }), runId });
      console.log(`run ${runId} can be resumed without the outline node`);
      return;
    }
    default:
      throw new UsageError(command ? `unknown command "${command}"` : "no command given");
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const parseError = String((error as { code?: unknown }).code ?? "").startsWith("ERR_PARSE_ARGS");
  if (error instanceof UsageError || parseError) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const code = (error as WorkflowError).code;
  console.error(code ? `${code}: ${(error as Error).message}` : error);
  process.exitCode = 1;
});
