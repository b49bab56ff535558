import { type RunMetadata, WorkflowEngine } from "@wf/core";
import type { Command } from "commander";
import { checkId } from "../context.js";
import { loadDefinitions, pickDefinition } from "../definition-module.js";
import { eachRun } from "../journal-read.js";
import type { Action } from "../program.js";
import { statusCell } from "../summaries.js";

/** Whether a run can be resumed with a definition, as `wf validate --json` prints it. */
interface Verdict {
  runId: string;
  status: string;
  headStep: number;
  resumable: boolean;
  /** Why not: the engine's `Cannot resume:` message, or the error that stopped it. */
  reason: string | null;
  code: string | null;
}

export function registerValidate(program: Command, action: Action): void {
  program
    .command("validate")
    .description("which runs a definition can resume, and why each other cannot")
    .argument("<workflow>", "workflow id")
    .requiredOption("--definition <module>", "module exporting the workflow definition")
    .option("--run <run>", "only this run")
    .action(
      action(async (context, workflow: string, options: { definition: string; run?: string }) => {
        const workflowId = checkId(workflow, "workflow");
        const only = options.run === undefined ? undefined : checkId(options.run, "--run");
        const definition = pickDefinition(
          await loadDefinitions(options.definition),
          workflowId,
          options.definition,
        );
        const storage = await context.store();
        const verdicts: Verdict[] = [];
        const judge = async (run: RunMetadata) => {
          try {
            // Resuming validates and writes nothing.
            await WorkflowEngine.create({ ...definition, storage, runId: run.runId });
            verdicts.push({
              runId: run.runId,
              status: run.status,
              headStep: run.headStep,
              resumable: true,
              reason: null,
              code: null,
            });
          } catch (error) {
            const { message, code } = error as { message?: string; code?: string };
            verdicts.push({
              runId: run.runId,
              status: run.status,
              headStep: run.headStep,
              resumable: false,
              reason: String(message ?? error),
              code: typeof code === "string" ? code : null,
            });
          }
        };
        if (only !== undefined) {
          await judge(await storage.getRun(workflowId, only));
        } else {
          for await (const run of eachRun(storage, workflowId)) await judge(run);
        }
        const refused = verdicts.filter((verdict) => !verdict.resumable).length;
        if (context.json) {
          context.out.json({ workflowId, definition: options.definition, runs: verdicts });
        } else {
          context.out.table(
            [
              { header: "RUN", shrink: true },
              { header: "STATUS" },
              { header: "HEAD", right: true },
              { header: "RESUMABLE" },
              { header: "WHY NOT", shrink: true },
            ],
            verdicts.map((verdict) => [
              verdict.runId,
              statusCell(verdict.status),
              String(verdict.headStep),
              verdict.resumable ? { text: "yes", colour: "green" } : { text: "no", colour: "red" },
              verdict.reason ?? "",
            ]),
          );
          context.out.note(
            `${verdicts.length - refused} of ${verdicts.length} run(s) can be resumed with ${options.definition}.`,
          );
        }
      }),
    );
}
