import type { Writable } from "node:stream";
import cliProgress from "cli-progress";
import type { CopyProgress } from "./copy-report.js";

export interface CopyProgressReporterOptions {
  /** Draw a bar (true) or write plain lines (false). Default: a bar when the stream is a TTY. */
  bar?: boolean;
  /** Least time between two plain lines, in ms. Default 1,000. */
  intervalMs?: number;
  /** The clock plain lines are spaced by, in ms. Default `performance.now`. */
  now?: () => number;
}

export interface CopyProgressReporter {
  /** Pass as CopyOptions.onProgress. */
  onProgress(progress: CopyProgress): void;
  /** Writes a line of its own (a run in conflict, …) above the bar, or between the progress lines. */
  note(text: string): void;
  /** Draws the final state and lets go of the stream (restores the cursor). Idempotent. */
  finish(): void;
}

/** A whole number of seconds as 1h02m03s, 2m03s or 3s. */
function duration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  if (h) return `${h}h${String(m).padStart(2, "0")}m${String(s).padStart(2, "0")}s`;
  if (m) return `${m}m${String(s).padStart(2, "0")}s`;
  return `${s}s`;
}

function perSecond(count: number, elapsedMs: number): number {
  return elapsedMs > 0 ? (count * 1000) / elapsedMs : 0;
}

/** One plain progress line, for logs and pipes. */
export function formatProgressLine(progress: CopyProgress): string {
  const { runsDone, runsTotal, stepsDone, stepsTotal, stepsCopied, elapsedMs } = progress;
  if (progress.phase === "counting") {
    return `copy: counting: ${runsTotal} runs, ${stepsTotal} steps so far`;
  }
  const stepRate = perSecond(stepsDone, elapsedMs);
  const of = (done: number, total: number) =>
    progress.totalsKnown ? `${done}/${total}` : `${done}`;
  const parts = [
    `${of(runsDone, runsTotal)} runs`,
    `${of(stepsDone, stepsTotal)} steps (${stepsCopied} written)`,
    `${perSecond(runsDone, elapsedMs).toFixed(1)} runs/s`,
    `${Math.round(stepRate)} steps/s`,
  ];
  if (progress.phase === "done") parts.push(`took ${duration(elapsedMs / 1000)}`);
  else if (progress.totalsKnown && stepRate > 0) {
    parts.push(`ETA ${duration((stepsTotal - stepsDone) / stepRate)}`);
  }
  return `copy: ${progress.phase === "done" ? "done: " : ""}${parts.join(", ")}`;
}

/**
 * Shows a copy's progress on `stream` (stderr, for `wf copy`): a cli-progress
 * bar with runs and steps done, the rate and the ETA on a terminal, and
 * otherwise a plain line at most every `intervalMs`, on each phase change,
 * and a final line, so logs stay short however many steps are copied.
 */
export function createCopyProgressReporter(
  stream: NodeJS.WriteStream | Writable,
  options: CopyProgressReporterOptions = {},
): CopyProgressReporter {
  const useBar = options.bar ?? (stream as { isTTY?: boolean }).isTTY === true;
  return useBar ? barReporter(stream) : lineReporter(stream, options);
}

function lineReporter(
  stream: NodeJS.WriteStream | Writable,
  options: CopyProgressReporterOptions,
): CopyProgressReporter {
  const intervalMs = options.intervalMs ?? 1000;
  const now = options.now ?? (() => performance.now());
  let lastAt = Number.NEGATIVE_INFINITY;
  let lastPhase: CopyProgress["phase"] | null = null;
  let latest: CopyProgress | null = null;
  let finished = false;
  const write = (progress: CopyProgress) => {
    stream.write(`${formatProgressLine(progress)}\n`);
    lastAt = now();
    lastPhase = progress.phase;
  };
  return {
    onProgress(progress) {
      if (finished) return;
      latest = progress;
      // The final line is finish()'s, so it is written once whoever ends first.
      if (progress.phase === "done") return;
      if (progress.phase !== lastPhase || now() - lastAt >= intervalMs) write(progress);
    },
    note(text) {
      stream.write(`${text}\n`);
    },
    finish() {
      if (finished) return;
      finished = true;
      if (latest) write({ ...latest, phase: "done" });
    },
  };
}

function barReporter(stream: NodeJS.WriteStream | Writable): CopyProgressReporter {
  // A MultiBar of one bar, for its log(): notes are printed above the bar instead of through it.
  const bars = new cliProgress.MultiBar(
    {
      stream: stream as NodeJS.WritableStream,
      format:
        "copy {bar} {percentage}% | {runs} runs | {value}/{total} steps | {runRate} runs/s, {stepRate} steps/s | ETA {eta_formatted}",
      hideCursor: true,
      // Keep the last frame on screen: it is the record of what was copied.
      clearOnComplete: false,
      etaBuffer: 100,
    },
    cliProgress.Presets.shades_classic,
  );
  let bar: cliProgress.SingleBar | undefined;
  let finished = false;
  const payload = (progress: CopyProgress) => ({
    runs:
      progress.phase === "counting"
        ? `counting ${progress.runsTotal}`
        : `${progress.runsDone}/${progress.runsTotal}`,
    runRate: perSecond(progress.runsDone, progress.elapsedMs).toFixed(1),
    stepRate: Math.round(perSecond(progress.stepsDone, progress.elapsedMs)),
  });
  return {
    onProgress(progress) {
      if (finished) return;
      if (!bar) {
        bar = bars.create(progress.stepsTotal, progress.stepsDone, payload(progress));
        return;
      }
      if (bar.getTotal() !== progress.stepsTotal) bar.setTotal(progress.stepsTotal);
      bar.update(progress.stepsDone, payload(progress));
    },
    note(text) {
      if (finished || !bar) stream.write(`${text}\n`);
      else bars.log(`${text}\n`);
    },
    finish() {
      if (finished) return;
      finished = true;
      if (!bar) return;
      // Flushes the notes still waiting for the next frame, then draws the last one.
      bars.update();
      bars.stop();
    },
  };
}
