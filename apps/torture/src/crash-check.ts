/**
 * The check after a crash cycle: each run is opened, resumed to the end and
 * read back; acknowledged steps must be there with the content the child
 * reported, every record readable, the timeline 0..n without a node run twice.
 */
import { hasErrorCode, type StepRecord, WorkflowEngine, type WorkflowStorage } from "@wf/core";
import type { CrashPlan } from "./crash-plan.js";
import { describeError } from "./error-text.js";
import { readSteps, timelineBreaks } from "./journal.js";
import { type CrashState, crashWorkflow, stateHash } from "./workflows.js";

/** What the crash section counts over all cycles of one store. */
export interface CrashTotals {
  cycles: number;
  killed: Record<"delay" | "begin" | "inside", number>;
  /** Cycles whose child completed every run before its kill came. */
  finished: number;
  runs: number;
  acknowledged: number;
  found: number;
  lost: number;
  torn: number;
  corrupt: number;
  /** STEP_CONFLICTs met by a resume: an append of the killed child landing after the kill. */
  lateAppends: number;
  /** Time spent in children, and in resuming and checking here, summed over cycles. */
  childMs: number;
  checkMs: number;
}

/** Reads a run's steps one by one, for a run whose listing cannot be read whole. */
async function probeSteps(
  storage: WorkflowStorage,
  workflowId: string,
  runId: string,
  last: number,
) {
  const records = new Map<number, StepRecord>();
  const torn: string[] = [];
  for (let step = 0; step <= last; step++) {
    try {
      records.set(step, await storage.getStep(workflowId, runId, step));
    } catch (error) {
      if (!hasErrorCode(error, "STEP_NOT_FOUND"))
        torn.push(`step ${step}: ${describeError(error)}`);
    }
  }
  return { records, torn };
}

/** Late appends met before a resume gives up: each is one append of the killed child, at most. */
const MAX_LATE_APPENDS = 5;

/**
 * Opens the run and runs it to the end. An append the killed child had sent
 * may still land after the kill (a statement the server was executing, a
 * request in flight): the resume then meets STEP_CONFLICT and opens the run
 * again, as any engine does.
 */
async function resumeToEnd(
  definition: ReturnType<typeof crashWorkflow> & { storage: WorkflowStorage },
  runId: string,
  totals: CrashTotals,
): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      const engine = await WorkflowEngine.create<CrashState>({ ...definition, runId });
      return await engine.run();
    } catch (error) {
      if (!hasErrorCode(error, "STEP_CONFLICT") || attempt >= MAX_LATE_APPENDS) throw error;
      totals.lateAppends += 1;
    }
  }
}

/** Resumes and completes one run of a cycle, then checks its journal against the acknowledgements. */
export async function verifyRun(
  storage: WorkflowStorage,
  plan: CrashPlan,
  runId: string,
  acks: Map<number, string>,
  totals: CrashTotals,
  problems: string[],
): Promise<void> {
  const definition = { ...crashWorkflow(plan.workflowId, plan.nodes), storage };
  totals.runs += 1;
  totals.acknowledged += acks.size;
  let completed = false;
  try {
    const status = await resumeToEnd(definition, runId, totals);
    completed = status === "completed";
    if (!completed) {
      totals.corrupt += 1;
      problems.push(`run ${runId} resumed to ${status}, not completed`);
    }
  } catch (error) {
    if (hasErrorCode(error, "RUN_NOT_FOUND")) {
      totals.lost += acks.size;
      if (acks.size > 0) problems.push(`run ${runId}: acknowledged, but RUN_NOT_FOUND`);
      return;
    }
    if (hasErrorCode(error, "CORRUPT_RECORD")) totals.torn += 1;
    else totals.corrupt += 1;
    problems.push(`run ${runId} could not be resumed: ${describeError(error)}`);
  }

  let records: Map<number, StepRecord>;
  try {
    const listed = await readSteps(storage, plan.workflowId, runId);
    records = new Map(listed.map((record) => [record.step, record]));
    const breaks = timelineBreaks(listed);
    listed.forEach((record, index) => {
      const visited = (record.shared as Partial<CrashState>).visited?.length;
      if (visited !== index)
        breaks.push(`step ${record.step} follows ${visited} nodes, not ${index}`);
    });
    if (completed && listed.length !== plan.nodes + 1) {
      breaks.push(`${listed.length} steps once completed, not ${plan.nodes + 1}`);
    }
    if (breaks.length > 0) {
      totals.corrupt += 1;
      problems.push(`run ${runId}: ${breaks.join("; ")}`);
    }
  } catch (error) {
    problems.push(`run ${runId}: listSteps failed: ${describeError(error)}`);
    const probed = await probeSteps(storage, plan.workflowId, runId, plan.nodes + 1);
    records = probed.records;
    totals.torn += probed.torn.length;
    problems.push(...probed.torn.map((torn) => `run ${runId} ${torn}`));
  }

  for (const [step, hash] of acks) {
    const record = records.get(step);
    if (!record) {
      totals.lost += 1;
      problems.push(`run ${runId}: acknowledged step ${step} is missing`);
    } else if (stateHash(record.shared) !== hash) {
      totals.corrupt += 1;
      problems.push(`run ${runId}: step ${step} holds other content than was acknowledged`);
    } else {
      totals.found += 1;
    }
  }
}
