#!/usr/bin/env node
// Measures `wf copy`'s engine: peak RSS and throughput for many runs and for
// one long run, each at two sizes, so that memory can be seen not to grow
// with the number of runs or steps. Not a test: numbers depend on the disk
// and the servers.
//
//   node scripts/measure-copy.mjs            # 1,000 and 10,000 runs fs → fs; 10,000- and 100,000-step run on Redis
//   node scripts/measure-copy.mjs runs       # only the runs
//   node scripts/measure-copy.mjs steps      # only the long run
//
// Environment: WF_MEASURE_RUNS (default 10000), WF_MEASURE_STEPS (100000),
// WF_MEASURE_REDIS (redis://127.0.0.1:6379/0), WF_MEASURE_TO (fs, or a
// store URL for the runs' destination, e.g. postgres://…?schema=x).
//
// Each copy runs in a fresh child process, which reports its own peak RSS
// (process.resourceUsage().maxRSS) before and after the copy; the source data
// is written directly through the storage by this process beforehand.
import { fork } from "node:child_process";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { sampleRun, sampleStep } from "@wf/storage-conformance/records";
import { openStore } from "@wf/store-url";

const here = dirname(fileURLToPath(import.meta.url));
const quiet = { warn() {} };
const optionsFor = (url) => (/^rediss?:/.test(url) ? { logger: quiet } : undefined);

/** Compiles src/copy*.ts where the engine's imports resolve (this package's node_modules). */
async function buildEngine() {
  const ts = (await import("typescript")).default;
  const dir = join(here, "..", "node_modules", ".cache", "wf-measure-copy");
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const sources = join(here, "..", "src");
  for (const name of (await readdir(sources)).filter((n) => /^copy(-[a-z-]+)?\.ts$/.test(n))) {
    const { outputText } = ts.transpileModule(await readFile(join(sources, name), "utf8"), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      fileName: name,
    });
    await writeFile(join(dir, name.replace(/\.ts$/, ".js")), outputText);
  }
  return dir;
}

/** The conformance suite's builders, with the given times and a padded state. */
const metadata = (workflowId, runId, createdAt) => sampleRun(workflowId, runId, { createdAt });
const record = (workflowId, runId, step, createdAt) =>
  sampleStep(workflowId, runId, step, { createdAt, shared: { step, padding: "x".repeat(100) } });

const at = (n) => new Date(Date.UTC(2026, 0, 1) + n).toISOString();

/** `runs` runs of `steps` records, written `concurrency` runs at a time. */
async function seedRuns(store, runs, steps, concurrency) {
  let next = 0;
  const worker = async () => {
    while (next < runs) {
      const i = next++;
      const runId = `run-${String(i).padStart(6, "0")}`;
      await store.createRun(
        metadata("measure", runId, at(i * 1000)),
        record("measure", runId, 0, at(i * 1000)),
      );
      for (let step = 1; step < steps; step++) {
        await store.appendStep(record("measure", runId, step, at(i * 1000 + step)));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Copies `from` to `to` in a fresh process; resolves with what it measured. */
function measure(built, from, to) {
  return new Promise((resolve, reject) => {
    const child = fork(
      fileURLToPath(import.meta.url),
      ["--child", JSON.stringify({ built, from, to })],
      {
        // --expose-gc: the heap is sampled after a collection, so it shows what is live, not garbage.
        execArgv: ["--expose-gc"],
      },
    );
    child.once("message", resolve);
    child.once("exit", (code) =>
      code === 0 ? undefined : reject(new Error(`copy child exited ${code}`)),
    );
  });
}

async function child({ built, from, to }) {
  const { copyJournals } = await import(pathToFileURL(join(built, "copy.js")).href);
  const source = await openStore(from, optionsFor(from));
  const destination = await openStore(to, optionsFor(to));
  const before = process.resourceUsage().maxRSS;
  let peakHeap = process.memoryUsage().heapUsed;
  let sampled = 0;
  const started = performance.now();
  const report = await copyJournals({
    from: source,
    to: destination,
    onProgress(progress) {
      // A collection is not free: every 2,000 steps is plenty.
      if (progress.stepsDone - sampled < 2000 && progress.phase !== "done") return;
      sampled = progress.stepsDone;
      globalThis.gc?.();
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    },
  });
  const seconds = (performance.now() - started) / 1000;
  await source.close();
  await destination.close();
  process.send({
    seconds,
    runs: report.totals.runs,
    steps: report.totals.steps,
    copied: report.totals.copied,
    problems: report.problems.length,
    maxRssBeforeMB: before / 1024,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
    peakHeapMB: peakHeap / 1024 / 1024,
  });
  process.exit(0);
}

function line(label, m) {
  const fixed = (n, d = 1) => n.toFixed(d);
  return `${label.padEnd(34)} ${fixed(m.seconds)} s  ${fixed(m.runs / m.seconds)} runs/s  ${fixed(m.steps / m.seconds, 0)} steps/s  peak RSS ${fixed(m.maxRssMB)} MB (${fixed(m.maxRssBeforeMB)} MB before the copy)  live heap at most ${fixed(m.peakHeapMB)} MB  problems ${m.problems}`;
}

async function main(which) {
  const runs = Number(process.env.WF_MEASURE_RUNS ?? 10_000);
  const steps = Number(process.env.WF_MEASURE_STEPS ?? 100_000);
  const redis = process.env.WF_MEASURE_REDIS ?? "redis://127.0.0.1:6379/0";
  const toUrl = process.env.WF_MEASURE_TO ?? "fs";
  const built = await buildEngine();
  const root = join(tmpdir(), `wf-measure-copy-${process.pid}`);
  console.log(`node ${process.version}, engine built in ${built}, data in ${root}`);
  try {
    if (which === "all" || which === "runs") {
      for (const count of [Math.round(runs / 10), runs]) {
        const from = `file:${join(root, `runs-${count}-from`)}`;
        const to = toUrl === "fs" ? `file:${join(root, `runs-${count}-to`)}` : toUrl;
        const store = await openStore(from);
        const seedStart = performance.now();
        await seedRuns(store, count, 3, 32);
        await store.close();
        console.log(
          `seeded ${count} runs of 3 steps in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`,
        );
        console.log(
          line(
            `${count} runs × 3 steps, fs → ${toUrl === "fs" ? "fs" : toUrl.split(":")[0]}`,
            await measure(built, from, to),
          ),
        );
        if (toUrl !== "fs") await emptyWorkflow(to);
      }
    }
    if (which === "all" || which === "steps") {
      for (const count of [Math.round(steps / 10), steps]) {
        const tag = `wfmeasure${process.pid}_${count}`;
        const from = `${redis}?prefix=${tag}_from:`;
        const to = `${redis}?prefix=${tag}_to:`;
        const store = await openStore(from, optionsFor(from));
        const seedStart = performance.now();
        await seedRuns(store, 1, count, 1);
        await store.close();
        console.log(
          `seeded one run of ${count} steps in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`,
        );
        try {
          console.log(
            line(`one run of ${count} steps, Redis → Redis`, await measure(built, from, to)),
          );
        } finally {
          await emptyWorkflow(from);
          await emptyWorkflow(to);
        }
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true });
    await rm(built, { recursive: true, force: true });
  }
}

/** Deletes the measurement's runs from a server store. */
async function emptyWorkflow(url) {
  const store = await openStore(url, optionsFor(url));
  try {
    for (;;) {
      const page = await store.listRuns("measure", { limit: 1000 });
      for (const run of page.items) await store.deleteRun("measure", run.runId);
      if (page.items.length === 0 && page.nextCursor === null) break;
    }
  } finally {
    await store.close();
  }
}

if (process.argv[2] === "--child") {
  await child(JSON.parse(process.argv[3]));
} else {
  await main(process.argv[2] ?? "all");
}
