/**
 * Races: 16 engines in 4 child processes step the same 4 runs to the goal,
 * each re-opening its run on STEP_CONFLICT. Afterwards every run must hold
 * steps 0..goal exactly once each: no duplicate (a step number stored twice,
 * a count reached twice, a step acknowledged to two engines), no gap.
 */
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { type StepRecord, WorkflowEngine, type WorkflowStorage } from "@wf/core";
import { ChildFixture } from "@wf/test-services";
import { describeError } from "./error-text.js";
import { readSteps, timelineBreaks } from "./journal.js";
import type { StoreReport } from "./report.js";
import type { StoreTarget } from "./target.js";
import { within } from "./wait.js";
import { type TickState, tickWorkflow } from "./workflows.js";

const CHILD = fileURLToPath(new URL("./race-child.js", import.meta.url));
const PROCESSES = 4;
const ENGINES_PER_PROCESS = 4;
const RUNS = 4;
/** Bounds the whole race: contention on a slow store is slow, a livelock must still end. */
const RACE_TIMEOUT_MS = 8 * 60_000;

export interface RaceOptions {
  /** Steps each run is driven to. */
  steps: number;
  seed: number;
  progress: (message: string) => void;
}

interface RunFindings {
  duplicates: string[];
  gaps: string[];
  lost: number;
  unacknowledged: number;
  reachedGoal: boolean;
  appended: number;
}

/** Checks one run's journal against the acknowledgements the engines reported. */
function inspectRun(
  records: readonly StepRecord[],
  acks: Map<number, string[]>,
  goal: number,
  runIndex: number,
): RunFindings {
  const duplicates: string[] = [];
  const gaps: string[] = [];
  const byStep = new Map<number, number>();
  const byCount = new Map<number, number[]>();
  for (const record of records) {
    byStep.set(record.step, (byStep.get(record.step) ?? 0) + 1);
    const count = (record.shared as Partial<TickState>).count ?? -1;
    byCount.set(count, [...(byCount.get(count) ?? []), record.step]);
    if (count !== record.step)
      gaps.push(`run ${runIndex}: step ${record.step} holds count ${count}`);
  }
  for (const [step, times] of byStep) {
    if (times > 1) duplicates.push(`run ${runIndex}: step ${step} is stored ${times} times`);
  }
  for (const [count, steps] of byCount) {
    if (steps.length > 1) {
      duplicates.push(`run ${runIndex}: count ${count} was reached by steps ${steps.join(", ")}`);
    }
  }
  for (const [step, engines] of acks) {
    if (engines.length > 1) {
      duplicates.push(`run ${runIndex}: step ${step} was acknowledged to ${engines.join(" and ")}`);
    }
  }
  const head = records.at(-1)?.step ?? -1;
  for (let step = 0; step <= head; step++) {
    if (!byStep.has(step)) gaps.push(`run ${runIndex}: step ${step} is missing below the head`);
  }
  gaps.push(...timelineBreaks(records).map((problem) => `run ${runIndex}: ${problem}`));
  let lost = 0;
  for (const step of acks.keys()) if (!byStep.has(step)) lost += 1;
  if (lost > 0) gaps.push(`run ${runIndex}: ${lost} acknowledged steps are not stored`);
  const unacknowledged = records.filter((r) => r.step > 0 && !acks.has(r.step)).length;
  const last = records.at(-1);
  return {
    duplicates,
    gaps,
    lost,
    unacknowledged,
    reachedGoal: head === goal && last?.status === "completed",
    appended: Math.max(0, records.length - 1),
  };
}

async function createRuns(storage: WorkflowStorage, workflowId: string, goal: number) {
  const runIds: string[] = [];
  for (let i = 0; i < RUNS; i++) {
    const engine = await WorkflowEngine.create<TickState>({
      ...tickWorkflow(workflowId, "parent"),
      storage,
      initialState: { count: 0, goal, by: "parent" },
    });
    runIds.push(engine.runId);
  }
  return runIds;
}

/** Runs the race on one store and adds the races rows to its report. */
export async function racesSection(
  target: StoreTarget,
  options: RaceOptions,
  report: StoreReport,
): Promise<void> {
  const storage = await target.open();
  const workflowId = "races";
  const started = Date.now();
  try {
    const runIds = await createRuns(storage, workflowId, options.steps);
    const children = Array.from(
      { length: PROCESSES },
      (_, index) =>
        new ChildFixture(CHILD, [
          JSON.stringify(target.spec),
          workflowId,
          JSON.stringify(runIds),
          String(index),
          String(ENGINES_PER_PROCESS),
        ]),
    );
    const total = RUNS * options.steps;
    const acknowledged = () =>
      children.reduce(
        (sum, child) => sum + child.lines.filter((l) => l.startsWith("ack ")).length,
        0,
      );
    const ticker = setInterval(
      () => options.progress(`${target.kind} races: ${acknowledged()}/${total} steps`),
      5_000,
    );
    // "close" comes after a child's last line is read; "exit" may come before it.
    const closed = children.map((child) => once(child.child, "close"));
    const ended = await within(
      RACE_TIMEOUT_MS,
      "the race",
      Promise.all(closed).then(() => Promise.all(children.map((child) => child.exited))),
    ).finally(() => {
      clearInterval(ticker);
      for (const child of children) child.child.kill("SIGKILL");
    });

    const acks = runIds.map(() => new Map<number, string[]>());
    let conflicts = 0;
    const errors = new Map<string, number>();
    const failures: string[] = [];
    for (const [index, child] of children.entries()) {
      const outcome = ended[index];
      for (const line of child.lines) {
        const [kind, a = "", b = "", c = ""] = line.split(" ");
        // ack <run> <step> <engine> | stats <engine> <conflicts> | error <engine> <code> …
        if (kind === "ack") {
          const runAcks = acks[Number(a)] as Map<number, string[]>;
          runAcks.set(Number(b), [...(runAcks.get(Number(b)) ?? []), c]);
        } else if (kind === "stats") conflicts += Number(b);
        else if (kind === "error") {
          errors.set(b, (errors.get(b) ?? 0) + 1);
          if (failures.length < 5) failures.push(line);
        } else if (kind === "gave-up") failures.push(line);
      }
      if (outcome?.code !== 0 && !child.lines.some((line) => line.startsWith("gave-up"))) {
        failures.push(
          `process ${index} exited with ${outcome?.signal ?? outcome?.code}: ${child.stderr.slice(0, 500)}`,
        );
      }
    }
    const findings: RunFindings[] = [];
    for (const [index, runId] of runIds.entries()) {
      const records = await readSteps(storage, workflowId, runId);
      findings.push(
        inspectRun(records, acks[index] as Map<number, string[]>, options.steps, index),
      );
    }
    const sum = (pick: (f: RunFindings) => number) => findings.reduce((n, f) => n + pick(f), 0);
    const duplicates = findings.flatMap((f) => f.duplicates);
    const gaps = findings.flatMap((f) => f.gaps);
    const reached = findings.filter((f) => f.reachedGoal).length;
    const ackCount = acks.reduce((n, run) => n + run.size, 0);

    report.info("races", "engines", `${PROCESSES * ENGINES_PER_PROCESS} in ${PROCESSES} processes`);
    report.judge(
      "races",
      "runs at the goal (completed)",
      `${reached}/${RUNS} at step ${options.steps}`,
      reached === RUNS,
    );
    report.info(
      "races",
      "steps appended / acknowledged",
      `${sum((f) => f.appended)} / ${ackCount}`,
    );
    report.info("races", "STEP_CONFLICT met", conflicts);
    report.info(
      "races",
      "stored steps no engine acknowledged",
      sum((f) => f.unacknowledged),
    );
    report.judge("races", "duplicates", duplicates.length, duplicates.length === 0);
    report.judge("races", "gaps", gaps.length, gaps.length === 0);
    const errorCount = [...errors.values()].reduce((n, count) => n + count, 0);
    report.judge(
      "races",
      "errors other than STEP_CONFLICT",
      errorCount === 0 ? "0" : [...errors].map(([name, count]) => `${name} ×${count}`).join(", "),
      errorCount === 0,
    );
    report.info("races", "time", `${((Date.now() - started) / 1000).toFixed(1)} s`);
    const problems = [...duplicates, ...gaps, ...failures];
    if (problems.length > 0) {
      report.fail("races", options.seed, problems.slice(0, 10).join(" | "));
    }
    for (const runId of runIds) {
      await storage.deleteRun(workflowId, runId).catch((error: unknown) => {
        report.fail("races", options.seed, `deleteRun ${runId}: ${describeError(error)}`);
      });
    }
  } finally {
    await storage.close();
  }
}
