import type { Command } from "commander";
import { checkId } from "../context.js";
import { eachTimelineStep } from "../journal-read.js";
import type { Action } from "../program.js";
import { printSteps, type StepSummary, stepSummary } from "../summaries.js";

export function registerSteps(program: Command, action: Action): void {
  program
    .command("steps")
    .description("a run's timeline up to its head; --all adds superseded branches, marked")
    .argument("<workflow>", "workflow id")
    .argument("<run>", "run id")
    .option("--all", "also the branches left behind by resuming from an earlier step")
    .action(
      action(async (context, workflow: string, runArg: string, options: { all?: boolean }) => {
        const workflowId = checkId(workflow, "workflow");
        const runId = checkId(runArg, "run");
        const storage = await context.store();
        const run = await storage.getRun(workflowId, runId);
        const steps: StepSummary[] = [];
        for await (const entry of eachTimelineStep(storage, run, { all: options.all === true })) {
          steps.push(stepSummary(entry));
        }
        printSteps(
          context.out,
          context.json,
          { workflowId, runId, headStep: run.headStep, forkedFrom: run.forkedFrom },
          steps,
        );
      }),
    );
}
