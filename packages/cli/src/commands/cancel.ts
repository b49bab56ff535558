import { cancelRun, type RunMetadata, type RunStatus, readTimelineStep } from "@wf/core";
import type { Command } from "commander";
import { checkId } from "../context.js";
import { OperationalError, UsageError } from "../errors.js";
import { plainText } from "../output.js";
import type { Action } from "../program.js";

/** The reason journalled when --reason is not given: says where the cancel came from. */
export const DEFAULT_CANCEL_REASON = "cancelled with wf cancel";

/** Statuses a run cannot be cancelled from: it has ended already. */
const ENDED: readonly RunStatus[] = ["completed", "cancelled"];

/** What `wf cancel --json` prints, whether or not the run was cancelled. */
export interface CancelJson {
  workflowId: string;
  runId: string;
  /** True when this command appended the cancel step. */
  cancelled: boolean;
  /** The run's status now: `cancelled`, or `completed` when it had ended already. */
  status: RunStatus;
  headStep: number;
  /** The status the run had before this command: what was cut short, or why nothing was. */
  previousStatus: RunStatus;
  /** The reason stored in the cancel step (this command's, or an earlier cancel's); null for a completed run. */
  reason: string | null;
}

function parseReason(value: string | undefined): string {
  if (value === undefined) return DEFAULT_CANCEL_REASON;
  if (value.trim() === "") {
    throw new UsageError(
      "--reason must say why the run is cancelled (it is kept in the journal); leave it out for the default.",
    );
  }
  return value;
}

/** The run's head when it is a cancel step (its reason, and the step it stands on), else null. */
async function cancelHead(
  storage: Parameters<typeof readTimelineStep>[0],
  run: RunMetadata,
): Promise<{ reason: string | null; parent: number | null } | null> {
  if (run.status !== "cancelled") return null;
  const head = await readTimelineStep(storage, run, run.headStep);
  return { reason: head.error?.message ?? null, parent: head.parent };
}

export function registerCancel(program: Command, action: Action): void {
  program
    .command("cancel")
    .description(
      "cancel a run that is not completed: appends a cancelled step, needs no --definition (asks first unless --yes)",
    )
    .argument("<workflow>", "workflow id")
    .argument("<run>", "run id")
    .option("--reason <text>", `why, kept in the journal (default "${DEFAULT_CANCEL_REASON}")`)
    .option("--yes", "do not ask")
    .action(
      action(
        async (
          context,
          workflow: string,
          runArg: string,
          options: { reason?: string; yes?: boolean },
        ) => {
          const workflowId = checkId(workflow, "workflow");
          const runId = checkId(runArg, "run");
          const reason = parseReason(options.reason);
          const storage = await context.store();
          const before = await storage.getRun(workflowId, runId);

          /** Prints what the run is, and refuses: it had ended already, nothing was written. */
          const alreadyEnded = async (run: RunMetadata): Promise<never> => {
            const cancel = await cancelHead(storage, run);
            const stored = cancel?.reason ?? null;
            if (context.json) {
              context.out.json({
                workflowId,
                runId,
                cancelled: false,
                status: run.status,
                headStep: run.headStep,
                previousStatus: run.status,
                reason: stored,
              } satisfies CancelJson);
            }
            const why =
              run.status === "cancelled"
                ? `was cancelled already at step ${run.headStep}${stored === null ? "" : ` (${JSON.stringify(plainText(stored))})`}`
                : `is completed already (head step ${run.headStep})`;
            const from = cancel?.parent ?? "<step>";
            throw new OperationalError(
              `Run ${runId} of ${workflowId} ${why}: nothing was cancelled. To run it again from an earlier step use \`wf resume ${workflowId} ${runId} --from ${from} --definition <module>\`, or \`wf fork\` for a new run.`,
            );
          };

          if (ENDED.includes(before.status)) await alreadyEnded(before);
          const question = `Cancel run ${runId} of ${workflowId} (${before.status}, head step ${before.headStep})?`;
          if (options.yes !== true && !(await context.confirm(question))) {
            context.out.note("Nothing cancelled.");
            return;
          }
          // cancelRun reads the head again and retries when another writer appends meanwhile.
          const done = await cancelRun(storage, workflowId, runId, { reason });
          const after = await storage.getRun(workflowId, runId);
          // The run ended between the read above and the cancel (it completed, or another cancel won).
          if (!done) await alreadyEnded(after);
          if (context.json) {
            context.out.json({
              workflowId,
              runId,
              cancelled: true,
              status: after.status,
              headStep: after.headStep,
              previousStatus: before.status,
              reason,
            } satisfies CancelJson);
            return;
          }
          context.out.line(
            `Cancelled run ${runId} of ${workflowId} at step ${after.headStep} (it was ${before.status}): ${plainText(reason)}`,
          );
          context.out.note(
            `The cancel step keeps the state of step ${after.headStep - 1}. To go on from there: wf resume ${workflowId} ${runId} --from ${after.headStep - 1} --definition <module> (or wf fork for a new run).`,
          );
        },
      ),
    );
}
