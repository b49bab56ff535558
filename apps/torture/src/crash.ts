/**
 * Crash: a child process runs several workflows concurrently and is killed
 * with SIGKILL at a seeded random moment: after a delay, as soon as it says
 * an append begins, or by itself a few microseconds into an append. Then
 * every run of the cycle is opened, resumed and completed here, and its
 * journal is read back: every acknowledged step must be there with the
 * content the child reported, no record torn, the timeline contiguous.
 */
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { hasErrorCode, type WorkflowStorage } from "@wf/core";
import { ChildFixture } from "@wf/test-services";
import { type CrashTotals, verifyRun } from "./crash-check.js";
import { type Acknowledgement, type CrashPlan, parseAck } from "./crash-plan.js";
import { describeError } from "./error-text.js";
import { listRunIds } from "./journal.js";
import { deriveSeed, SeededRandom } from "./random.js";
import type { StoreReport } from "./report.js";
import type { StoreSpec } from "./stores.js";
import type { StoreTarget } from "./target.js";
import { within } from "./wait.js";

const CHILD = fileURLToPath(new URL("./crash-child.js", import.meta.url));
const RUNS_PER_CYCLE = 3;
const NODES_PER_RUN = 5;
/** Payload sizes in characters (multi-byte): mostly small, sometimes large. */
const SIZES: [number, number][] = [
  [16, 4],
  [2_000, 3],
  [30_000, 2],
  [200_000, 1],
];
/** Bounds a cycle's child: a hang is a failure, not a stuck torture. */
const CHILD_TIMEOUT_MS = 60_000;
/** Longest delay of a parent-side kill after the child is ready. */
const MAX_KILL_DELAY_MS = 80;

type KillMode = keyof CrashTotals["killed"];

export interface CrashOptions {
  cycles: number;
  /** Cycles run at once (each its own child and workflow). */
  concurrency: number;
  seed: number;
  progress: (message: string) => void;
}

/** One cycle's decisions, all from its own seed. */
function planCycle(seed: number, kind: string, cycle: number) {
  const random = new SeededRandom(deriveSeed(seed, "crash", kind, cycle));
  const sizes = Array.from({ length: RUNS_PER_CYCLE }, () =>
    Array.from({ length: NODES_PER_RUN }, () => random.weighted(SIZES)),
  );
  const appends = RUNS_PER_CYCLE * (NODES_PER_RUN + 1);
  const mode = random.weighted<KillMode>([
    ["delay", 1],
    ["begin", 1],
    ["inside", 1],
  ]);
  const atAppend = random.int(1, appends);
  const delayMs = random.int(0, MAX_KILL_DELAY_MS);
  // Half the self-kills within the first millisecond of the append, where a
  // network store does its whole write; the rest over a slow fsync's span.
  const delayUs = random.next() < 0.5 ? random.int(0, 1_000) : random.int(1_000, 30_000);
  const plan: CrashPlan = {
    workflowId: `crash-${cycle}`,
    nodes: NODES_PER_RUN,
    sizes,
    selfKill: mode === "inside" ? { atAppend, delayUs } : null,
  };
  return { plan, mode, atAppend, delayMs };
}

/** Waits until `done(lines)` holds; false when the child exits first. */
async function waitForLine(child: ChildFixture, done: (lines: string[]) => boolean) {
  while (!done(child.lines)) {
    try {
      await child.waitForLines(child.lines.length + 1, CHILD_TIMEOUT_MS);
    } catch (error) {
      if (child.child.exitCode !== null || child.child.signalCode !== null) return false;
      throw error;
    }
  }
  return true;
}

async function runChild(spec: StoreSpec, cycle: ReturnType<typeof planCycle>) {
  const child = new ChildFixture(CHILD, [JSON.stringify(spec), JSON.stringify(cycle.plan)]);
  // "close" comes after the last line is read; "exit" may come before it.
  const closed = once(child.child, "close");
  try {
    if (cycle.mode === "delay") {
      if (await waitForLine(child, (lines) => lines.includes("ready"))) {
        await new Promise((resolve) => setTimeout(resolve, cycle.delayMs));
        child.child.kill("SIGKILL");
      }
    } else if (cycle.mode === "begin") {
      const begun = (lines: string[]) =>
        lines.filter((line) => line.startsWith("begin ")).length >= cycle.atAppend;
      if (await waitForLine(child, begun)) child.child.kill("SIGKILL");
    }
    await within(CHILD_TIMEOUT_MS, "the crash child", child.exited);
  } catch (error) {
    child.child.kill("SIGKILL");
    throw error;
  }
  await within(CHILD_TIMEOUT_MS, "the crash child's output", closed);
  const { code, signal } = await child.exited;
  return { lines: child.lines, code, signal, stderr: child.stderr };
}

async function runCycle(
  target: StoreTarget,
  storage: WorkflowStorage,
  options: CrashOptions,
  index: number,
  totals: CrashTotals,
  report: StoreReport,
): Promise<void> {
  const cycle = planCycle(options.seed, target.kind, index);
  const { plan } = cycle;
  const problems: string[] = [];
  const childStarted = Date.now();
  const outcome = await runChild(target.spec as StoreSpec, cycle);
  const checkStarted = Date.now();
  totals.childMs += checkStarted - childStarted;
  totals.cycles += 1;
  if (outcome.signal === "SIGKILL") totals.killed[cycle.mode] += 1;
  else if (outcome.code === 0) totals.finished += 1;
  else problems.push(`the child exited with ${outcome.signal ?? outcome.code}: ${outcome.stderr}`);

  const acked = new Map<string, Map<number, string>>();
  for (const ack of outcome.lines.map(parseAck).filter((a): a is Acknowledgement => a !== null)) {
    const steps = acked.get(ack.runId) ?? new Map<number, string>();
    steps.set(ack.step, ack.hash);
    acked.set(ack.runId, steps);
  }
  const listing = await listRunIds(storage, plan.workflowId);
  totals.torn += listing.damaged.length;
  for (const runId of listing.damaged) problems.push(`run ${runId} is listed as damaged`);
  const runIds = new Set([...listing.runIds, ...listing.damaged, ...acked.keys()]);
  // The runs are independent: checked side by side, as the child wrote them.
  await Promise.all(
    [...runIds].map(async (runId) => {
      await verifyRun(storage, plan, runId, acked.get(runId) ?? new Map(), totals, problems);
      try {
        await storage.deleteRun(plan.workflowId, runId);
      } catch (error) {
        if (!hasErrorCode(error, "RUN_NOT_FOUND")) {
          problems.push(`deleteRun ${runId} failed: ${describeError(error)}`);
        }
      }
    }),
  );
  totals.checkMs += Date.now() - checkStarted;
  if (problems.length > 0) {
    const how =
      cycle.mode === "delay"
        ? `killed ${cycle.delayMs} ms after ready`
        : cycle.mode === "begin"
          ? `killed at append ${cycle.atAppend}`
          : `killed itself ${plan.selfKill?.delayUs} µs into append ${cycle.atAppend}`;
    report.fail(
      "crash",
      options.seed,
      `cycle ${index} (${how}): ${problems.slice(0, 5).join(" | ")}`,
    );
  }
}

/** Runs the crash cycles on one store and adds the crash rows to its report. */
export async function crashSection(
  target: StoreTarget,
  options: CrashOptions,
  report: StoreReport,
): Promise<void> {
  const totals: CrashTotals = {
    cycles: 0,
    killed: { delay: 0, begin: 0, inside: 0 },
    finished: 0,
    runs: 0,
    acknowledged: 0,
    found: 0,
    lost: 0,
    torn: 0,
    corrupt: 0,
    lateAppends: 0,
    childMs: 0,
    checkMs: 0,
  };
  const storage = await target.open();
  const started = Date.now();
  let next = 0;
  let checked = 0;
  const worker = async () => {
    while (next < options.cycles) {
      const index = next++;
      await runCycle(target, storage, options, index, totals, report);
      checked += 1;
      if (checked % 20 === 0 || checked === options.cycles) {
        options.progress(
          `${target.kind} crash: ${checked}/${options.cycles} cycles, ` +
            `${totals.acknowledged} acknowledged, ${totals.lost} lost, ${totals.torn} torn, ${totals.corrupt} corrupt`,
        );
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    await storage.close();
  }
  const { killed } = totals;
  report.info(
    "crash",
    "cycles (killed / finished first)",
    `${totals.cycles} (${totals.cycles - totals.finished} / ${totals.finished})`,
  );
  report.info(
    "crash",
    "kills: after delay / at begin / inside append",
    `${killed.delay} / ${killed.begin} / ${killed.inside}`,
  );
  report.info("crash", "runs resumed and completed", totals.runs);
  report.info(
    "crash",
    "appends landing after the kill (STEP_CONFLICT on resume)",
    totals.lateAppends,
  );
  report.info("crash", "acknowledged steps", totals.acknowledged);
  report.judge("crash", "steps found", totals.found, totals.found === totals.acknowledged);
  report.judge("crash", "lost", totals.lost, totals.lost === 0);
  report.judge("crash", "torn", totals.torn, totals.torn === 0);
  report.judge("crash", "corrupt", totals.corrupt, totals.corrupt === 0);
  report.info(
    "crash",
    "time (summed: in children / checking)",
    `${((Date.now() - started) / 1000).toFixed(1)} s (${(totals.childMs / 1000).toFixed(0)} s / ${(totals.checkMs / 1000).toFixed(0)} s)`,
  );
}
