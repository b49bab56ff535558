import { readTimelineStep, type StepRecord } from "@wf/core";
import type { Command } from "commander";
import { checkId, parseStep } from "../context.js";
import { type Output, plainText } from "../output.js";
import type { Action } from "../program.js";

export function registerShow(program: Command, action: Action): void {
  program
    .command("show")
    .description(
      "one step of a run (default its head): node, status, state, inputs, question, error",
    )
    .argument("<workflow>", "workflow id")
    .argument("<run>", "run id")
    .option(
      "--step <n>",
      "the step to show (default: the head); below a fork point, read from the source",
    )
    .action(
      action(async (context, workflow: string, runArg: string, options: { step?: string }) => {
        const workflowId = checkId(workflow, "workflow");
        const runId = checkId(runArg, "run");
        const step = options.step === undefined ? undefined : parseStep(options.step, "--step");
        const storage = await context.store();
        const run = await storage.getRun(workflowId, runId);
        const record = await readTimelineStep(storage, run, step ?? run.headStep);
        if (context.json) {
          context.out.json({ workflowId, runId, step: record.step, record });
          return;
        }
        printRecord(context.out, runId, record);
      }),
    );
}

function printRecord(out: Output, runId: string, record: StepRecord): void {
  const field = (name: string, value: string) =>
    out.line(`${out.paint(name.padEnd(10), "bold")} ${plainText(value)}`);
  field("run", record.runId === runId ? runId : `${runId} (step stored in ${record.runId})`);
  field(
    "step",
    `${record.step}${record.parent === null ? "" : ` (continues step ${record.parent})`}`,
  );
  field("created", record.createdAt);
  const cancelled = record.status === "cancelled";
  // A cancel step runs no node: its previousNodeId is null like step 0's.
  field(
    "node",
    record.previousNodeId ?? (cancelled ? "(none: the run was cancelled)" : "(start of the run)"),
  );
  field("status", record.status);
  field(
    "next",
    record.nextNodeId === null
      ? "(none)"
      : cancelled
        ? `${record.nextNodeId} (would have run next; cut short by the cancel)`
        : record.nextNodeId,
  );
  field(
    "nodes",
    Object.entries(record.nodeStatuses)
      .map(([node, state]) => `${node}=${state}`)
      .join(", ") || "(none)",
  );
  if (Object.keys(record.inputs).length > 0) {
    field("inputs", JSON.stringify(record.inputs));
  }
  if (record.awaitingInput) {
    const question = record.awaitingInput;
    field("question", `${question.prompt} (answer under "${question.requestId}")`);
    if (question.options)
      field("options", question.options.map((option) => JSON.stringify(option)).join(" | "));
    field(
      "answer",
      `wf answer ${record.workflowId} ${runId} ${question.requestId}=<value> --definition <module>`,
    );
  }
  if (cancelled) {
    // The cancel's reason is carried as its error, but it is a decision, not a failure: no stack.
    field("reason", record.error?.message ?? "(none given)");
    const from = record.parent ?? record.step;
    field(
      "go on",
      `wf resume ${record.workflowId} ${runId} --from ${from} --definition <module> (or wf fork … --from ${from} for a new run)`,
    );
  } else if (record.error) {
    const error = record.error;
    field("error", `${error.name}${error.code ? ` [${error.code}]` : ""}: ${error.message}`);
    // A worker's queue retry: the run reads failed until then, not for good.
    if (error.retryAt) field("retry", `scheduled for ${error.retryAt}`);
    if (error.stack) out.line(out.paint(plainText(error.stack), "dim"));
  }
  out.line(out.paint("state", "bold"));
  out.line(JSON.stringify(record.shared, null, 2));
}
