import { type DamagedRun, RUN_STATUSES, type RunStatus } from "@wf/core";
import type { Command } from "commander";
import { checkId, parseCount } from "../context.js";
import { UsageError } from "../errors.js";
import { eachRun } from "../journal-read.js";
import type { Output } from "../output.js";
import type { Action } from "../program.js";
import { RUN_COLUMNS, type RunSummary, runRow, runSummary } from "../summaries.js";

/** Runs listed when --limit is not given. */
const DEFAULT_LIMIT = 50;

export function parseStatus(value: string | undefined): RunStatus | undefined {
  if (value === undefined) return undefined;
  if (!RUN_STATUSES.includes(value as RunStatus)) {
    throw new UsageError(
      `--status must be one of ${RUN_STATUSES.join(", ")}, got ${JSON.stringify(value)}.`,
    );
  }
  return value as RunStatus;
}

/** Damaged runs met while listing: named on stderr, with what to do. */
export function printDamaged(
  out: Output,
  damaged: readonly (DamagedRun & { workflowId?: string })[],
): void {
  for (const run of damaged) {
    out.note(
      `damaged run ${run.workflowId ? `${run.workflowId}/` : ""}${run.runId} at ${run.location}: ${run.reason}`,
    );
  }
  if (damaged.length > 0) {
    out.note(
      "Damaged runs cannot be read; remove one with `wf delete <workflow> <run>`, or repair it as the adapter's README says.",
    );
  }
}

export function registerRuns(program: Command, action: Action): void {
  program
    .command("runs")
    .description("list a workflow's runs, newest first")
    .argument("<workflow>", "workflow id")
    .option("--status <status>", `only runs with this status (${RUN_STATUSES.join(", ")})`)
    .option("--limit <n>", `at most this many runs (default ${DEFAULT_LIMIT})`)
    .option("--forked-from <run>", "only forks of this run")
    .action(
      action(
        async (
          context,
          workflow: string,
          options: { status?: string; limit?: string; forkedFrom?: string },
        ) => {
          const workflowId = checkId(workflow, "workflow");
          const status = parseStatus(options.status);
          const limit =
            options.limit === undefined ? DEFAULT_LIMIT : parseCount(options.limit, "--limit");
          const forkedFrom =
            options.forkedFrom === undefined
              ? undefined
              : checkId(options.forkedFrom, "--forked-from");
          const storage = await context.store();
          const runs: RunSummary[] = [];
          const damaged: DamagedRun[] = [];
          let more = false;
          for await (const run of eachRun(storage, workflowId, { status, damaged })) {
            if (forkedFrom !== undefined && run.forkedFrom?.runId !== forkedFrom) continue;
            if (runs.length === limit) {
              more = true;
              break;
            }
            runs.push(runSummary(run));
          }
          if (context.json) {
            context.out.json({ workflowId, runs, more, damaged });
            return;
          }
          if (runs.length === 0) {
            context.out.note(
              `No runs of ${JSON.stringify(workflowId)}${status ? ` with status ${status}` : ""}${forkedFrom ? ` forked from ${forkedFrom}` : ""} in ${context.shown(context.storeUrl)}. See the workflows there with \`wf workflows\`.`,
            );
          } else {
            context.out.table(RUN_COLUMNS, runs.map(runRow));
          }
          if (more) context.out.note(`(more runs: raise --limit to see past ${limit})`);
          printDamaged(context.out, damaged);
        },
      ),
    );
}
