import { readTimelineStep, type WorkflowStorage } from "@wf/core";
import type { Command } from "commander";
import { checkId, parseStep } from "../context.js";
import { UsageError } from "../errors.js";
import type { Action } from "../program.js";
import { diffSteps } from "../state-diff.js";

/** One side of a diff: `<n>` (a step of the run given), or `<run>@<n>`. */
interface Side {
  runId: string;
  step: number;
}

function parseSide(text: string, runId: string | undefined): Side {
  const at = text.lastIndexOf("@");
  if (at === -1) {
    if (runId === undefined) {
      throw new UsageError(
        `${JSON.stringify(text)} is not <run>@<step>: give \`wf diff <workflow> <run> <a> <b>\` or \`wf diff <workflow> <runA>@<n> <runB>@<m>\`.`,
      );
    }
    return { runId, step: parseStep(text) };
  }
  return { runId: checkId(text.slice(0, at), "run"), step: parseStep(text.slice(at + 1)) };
}

async function readSide(storage: WorkflowStorage, workflowId: string, side: Side) {
  const run = await storage.getRun(workflowId, side.runId);
  return readTimelineStep(storage, run, side.step);
}

export function registerDiff(program: Command, action: Action): void {
  program
    .command("diff")
    .description(
      "what changed in run status, shared state and node statuses: `wf diff <workflow> <run> <a> <b>` between two steps, or `wf diff <workflow> <runA>@<n> <runB>@<m>` across runs (a fork and its source)",
    )
    .argument("<workflow>", "workflow id")
    .argument("<args...>", "<run> <a> <b>, or <runA>@<n> <runB>@<m>")
    .action(
      action(async (context, workflow: string, args: string[]) => {
        const workflowId = checkId(workflow, "workflow");
        let sides: [Side, Side];
        if (args.length === 3) {
          const runId = checkId(args[0] as string, "run");
          sides = [parseSide(args[1] as string, runId), parseSide(args[2] as string, runId)];
        } else if (args.length === 2) {
          sides = [
            parseSide(args[0] as string, undefined),
            parseSide(args[1] as string, undefined),
          ];
        } else {
          throw new UsageError(
            "wf diff takes <run> <a> <b>, or <runA>@<n> <runB>@<m>; for example `wf diff orders run-1 3 5` or `wf diff orders run-1@3 run-2@3`.",
          );
        }
        const storage = await context.store();
        const before = await readSide(storage, workflowId, sides[0]);
        const after = await readSide(storage, workflowId, sides[1]);
        const changes = diffSteps(before, after);
        if (context.json) {
          context.out.json({ workflowId, from: sides[0], to: sides[1], changes });
          return;
        }
        const name = (side: Side) => `${side.runId}@${side.step}`;
        if (changes.length === 0) {
          context.out.line(`No differences between ${name(sides[0])} and ${name(sides[1])}.`);
          return;
        }
        context.out.line(context.out.paint(`${name(sides[0])} → ${name(sides[1])}`, "bold"));
        for (const change of changes) {
          if (change.kind === "added") {
            context.out.line(
              context.out.paint(`+ ${change.path}: ${JSON.stringify(change.after)}`, "green"),
            );
          } else if (change.kind === "removed") {
            context.out.line(
              context.out.paint(`- ${change.path}: ${JSON.stringify(change.before)}`, "red"),
            );
          } else {
            context.out.line(
              context.out.paint(
                `~ ${change.path}: ${JSON.stringify(change.before)} → ${JSON.stringify(change.after)}`,
                "yellow",
              ),
            );
          }
        }
      }),
    );
}
