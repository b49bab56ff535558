import type { Command } from "commander";
import { checkId } from "../context.js";
import { copyJournals, PROBLEM_OUTCOMES, summarizeCopy } from "../copy.js";
import { createCopyProgressReporter } from "../copy-progress.js";
import { OperationalError, UsageError } from "../errors.js";
import type { Action } from "../program.js";

export function registerCopy(program: Command, action: Action): void {
  program
    .command("copy")
    .description(
      "copy journals between stores, keeping ids, lineage, timestamps and every step (superseded branches too); idempotent and resumable",
    )
    .requiredOption("--from <url>", "the store to read (only read)")
    .requiredOption(
      "--to <url>",
      "the store to write (runs already there are checked, continued or left alone)",
    )
    .option("--workflow <workflow>", "only this workflow")
    .option("--run <run>", "only this run (with --workflow), and the runs it was forked from")
    .option("--no-count", "skip the first pass that counts runs and steps for the ETA")
    .action(
      action(
        async (
          context,
          options: { from: string; to: string; workflow?: string; run?: string; count: boolean },
        ) => {
          const workflowId =
            options.workflow === undefined ? undefined : checkId(options.workflow, "--workflow");
          const runId = options.run === undefined ? undefined : checkId(options.run, "--run");
          if (runId !== undefined && workflowId === undefined) {
            throw new UsageError(
              "--run needs --workflow: wf copy --from … --to … --workflow <workflow> --run <run>.",
            );
          }
          if (options.from === options.to) {
            throw new UsageError("--from and --to name the same store; copy to another one.");
          }
          const from = await context.open(options.from);
          const to = await context.open(options.to);
          const progress = createCopyProgressReporter(context.io.stderr, {});
          // Ctrl-C stops between two writes; the next copy resumes where this one stopped.
          const controller = new AbortController();
          const stop = () => controller.abort();
          process.once("SIGINT", stop);
          let report: Awaited<ReturnType<typeof copyJournals>>;
          try {
            report = await copyJournals({
              from,
              to,
              workflowId,
              runId,
              count: options.count,
              // Scripts get every run's result (about 200 bytes a run); people get the summary and the problems.
              collectRuns: context.json,
              signal: controller.signal,
              onProgress: progress.onProgress,
              onRun: (result) => {
                if (PROBLEM_OUTCOMES.includes(result.outcome)) {
                  context.out.note(
                    `${result.outcome}: ${result.workflowId}/${result.runId}: ${result.reason ?? ""}`,
                  );
                }
              },
            });
          } finally {
            process.off("SIGINT", stop);
            progress.finish();
          }
          if (context.json) {
            context.out.json({
              from: context.shown(options.from),
              to: context.shown(options.to),
              ...report,
            });
          } else {
            context.out.line(summarizeCopy(report));
          }
          if (report.aborted) {
            throw new OperationalError(
              "The copy was interrupted; run the same command again to resume it.",
            );
          }
          if (report.problems.some((problem) => PROBLEM_OUTCOMES.includes(problem.outcome))) {
            throw new OperationalError(
              "Some runs were not copied (listed above). Resolve each (a conflicting run in the destination is never overwritten: delete it there with `wf delete` if it should be replaced), then run the copy again.",
            );
          }
        },
      ),
    );
}
