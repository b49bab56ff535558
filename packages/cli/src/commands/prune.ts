import type { RunMetadata } from "@wf/core";
import type { Command } from "commander";
import { checkId } from "../context.js";
import { UsageError } from "../errors.js";
import { eachRun } from "../journal-read.js";
import type { Action } from "../program.js";
import { parseStatus } from "./runs.js";

const UNIT_MS: Record<string, number> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/** `30d`, `12h`, `90m`, `2w`, `45s` in milliseconds. */
export function parseAge(text: string): number {
  const match = /^(\d{1,9})([smhdw])$/.exec(text);
  if (!match) {
    throw new UsageError(
      `--older-than must be a number and a unit (s, m, h, d, w), such as 30d or 12h; got ${JSON.stringify(text)}.`,
    );
  }
  return Number(match[1]) * (UNIT_MS[match[2] as string] as number);
}

export function registerPrune(program: Command, action: Action): void {
  program
    .command("prune")
    .description(
      "delete a workflow's runs last updated before a time (counts first, asks unless --yes)",
    )
    .argument("<workflow>", "workflow id")
    .requiredOption("--older-than <age>", "runs not updated for this long: 30d, 12h, 90m, 2w")
    .option("--status <status>", "only runs with this status")
    .option("--dry-run", "count and list what would be deleted, delete nothing")
    .option("--yes", "do not ask")
    .option("--force", "also delete runs that forks read part of their history through")
    .action(
      action(
        async (
          context,
          workflow: string,
          options: {
            olderThan: string;
            status?: string;
            dryRun?: boolean;
            yes?: boolean;
            force?: boolean;
          },
        ) => {
          const workflowId = checkId(workflow, "workflow");
          const cutoff = new Date(Date.now() - parseAge(options.olderThan)).toISOString();
          const status = parseStatus(options.status);
          const storage = await context.store();
          // Only this workflow's listing is read, so no other workflow's run can be chosen.
          const chosen: RunMetadata[] = [];
          const sources = new Set<string>();
          for await (const run of eachRun(storage, workflowId)) {
            if (run.forkedFrom) sources.add(run.forkedFrom.runId);
            if (run.updatedAt < cutoff && (status === undefined || run.status === status))
              chosen.push(run);
          }
          const kept = options.force === true ? [] : chosen.filter((run) => sources.has(run.runId));
          const doomed = chosen.filter((run) => !kept.includes(run));
          const summary = `${doomed.length} run(s) of ${workflowId} not updated since ${cutoff}${status ? ` with status ${status}` : ""}`;
          if (kept.length > 0) {
            context.out.note(
              `Keeping ${kept.length} run(s) that forks read through (${kept
                .map((run) => run.runId)
                .slice(0, 5)
                .join(", ")}${kept.length > 5 ? ", …" : ""}); --force deletes them too.`,
            );
          }
          if (options.dryRun === true || doomed.length === 0) {
            if (context.json) {
              context.out.json({
                workflowId,
                cutoff,
                dryRun: options.dryRun === true,
                deleted: [],
                wouldDelete: doomed.map((run) => run.runId),
                kept: kept.map((run) => run.runId),
              });
            } else {
              context.out.line(
                `${options.dryRun ? "Would delete" : "Nothing to delete:"} ${summary}.`,
              );
              for (const run of options.dryRun ? doomed : [])
                context.out.line(`  ${run.runId}  ${run.status}  ${run.updatedAt}`);
            }
            return;
          }
          if (options.yes !== true && !(await context.confirm(`Delete ${summary}?`))) {
            context.out.note("Nothing deleted.");
            return;
          }
          const deleted: string[] = [];
          for (const run of doomed) {
            await storage.deleteRun(workflowId, run.runId).catch((error: { code?: string }) => {
              // Gone meanwhile (another prune, retention): the goal is reached.
              if (error?.code !== "RUN_NOT_FOUND") throw error;
            });
            deleted.push(run.runId);
          }
          if (context.json) {
            context.out.json({
              workflowId,
              cutoff,
              dryRun: false,
              deleted,
              wouldDelete: [],
              kept: kept.map((run) => run.runId),
            });
          } else {
            context.out.line(`Deleted ${deleted.length} run(s) of ${workflowId}.`);
          }
        },
      ),
    );
}
