import type { Command } from "commander";
import { checkId } from "../context.js";
import { OperationalError } from "../errors.js";
import { forksOf } from "../journal-read.js";
import type { Action } from "../program.js";

export function registerDelete(program: Command, action: Action): void {
  program
    .command("delete")
    .description("delete a run and every step it stores (asks first unless --yes)")
    .argument("<workflow>", "workflow id")
    .argument("<run>", "run id")
    .option("--yes", "do not ask")
    .option("--force", "delete even when forks read part of their history through this run")
    .action(
      action(
        async (
          context,
          workflow: string,
          runArg: string,
          options: { yes?: boolean; force?: boolean },
        ) => {
          const workflowId = checkId(workflow, "workflow");
          const runId = checkId(runArg, "run");
          const storage = await context.store();
          // A damaged run cannot be read but can be deleted: getRun's CORRUPT_RECORD is not a refusal.
          const run = await storage.getRun(workflowId, runId).catch((error: { code?: string }) => {
            if (error?.code === "CORRUPT_RECORD") return null;
            throw error;
          });
          const forks = await forksOf(storage, workflowId, runId);
          if (forks.length > 0 && options.force !== true) {
            throw new OperationalError(
              `Run ${runId} is the source of ${forks.length} fork(s) (${forks
                .slice(0, 5)
                .map((fork) => fork.runId)
                .join(
                  ", ",
                )}${forks.length > 5 ? ", …" : ""}), which read their steps before the fork point through it. Deleting it leaves them resumable but cuts that history: pass --force to delete anyway.`,
            );
          }
          const what = `Delete run ${runId} of ${workflowId}${run ? ` (${run.status}, ${run.headStep + 1} steps)` : " (damaged)"}?`;
          if (options.yes !== true && !(await context.confirm(what))) {
            context.out.note("Nothing deleted.");
            return;
          }
          await storage.deleteRun(workflowId, runId);
          if (context.json) {
            context.out.json({ workflowId, deleted: [runId] });
          } else {
            context.out.line(`Deleted run ${runId} of ${workflowId}.`);
          }
        },
      ),
    );
}
