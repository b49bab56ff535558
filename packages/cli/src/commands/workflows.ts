import type { DamagedRun, RunMetadata } from "@wf/core";
import type { Command } from "commander";
import { eachRun, eachWorkflow } from "../journal-read.js";
import { shortTime } from "../output.js";
import type { Action } from "../program.js";
import { printDamaged } from "./runs.js";

/** A workflow as `wf workflows --json` prints it. */
interface WorkflowSummary {
  workflowId: string;
  runs: number;
  newestRun: { runId: string; status: string; createdAt: string } | null;
  damagedRuns: number;
}

export function registerWorkflows(program: Command, action: Action): void {
  program
    .command("workflows")
    .description("list workflow ids, with their run counts and newest run")
    .action(
      action(async (context) => {
        const storage = await context.store();
        const workflows: WorkflowSummary[] = [];
        const damaged: (DamagedRun & { workflowId: string })[] = [];
        for await (const workflowId of eachWorkflow(storage)) {
          const found: DamagedRun[] = [];
          let runs = 0;
          let newest: RunMetadata | null = null;
          for await (const run of eachRun(storage, workflowId, { damaged: found })) {
            newest ??= run;
            runs += 1;
          }
          damaged.push(...found.map((run) => ({ workflowId, ...run })));
          workflows.push({
            workflowId,
            runs,
            newestRun: newest
              ? { runId: newest.runId, status: newest.status, createdAt: newest.createdAt }
              : null,
            damagedRuns: found.length,
          });
        }
        if (context.json) {
          context.out.json({ workflows, damaged });
          return;
        }
        if (workflows.length === 0) {
          context.out.note(
            `No workflows in ${context.shown(context.storeUrl)}. Run a workflow, or point --store at the store that holds them.`,
          );
          return;
        }
        context.out.table(
          [
            { header: "WORKFLOW", shrink: true },
            { header: "RUNS", right: true },
            { header: "NEWEST RUN", shrink: true },
            { header: "CREATED" },
          ],
          workflows.map((workflow) => [
            workflow.workflowId,
            String(workflow.runs),
            workflow.newestRun?.runId ?? "",
            workflow.newestRun ? shortTime(workflow.newestRun.createdAt) : "",
          ]),
        );
        printDamaged(context.out, damaged);
      }),
    );
}
