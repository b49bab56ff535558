import { parseArgs } from "node:util";
import { crashSection } from "./crash.js";
import { describeError } from "./error-text.js";
import { faultsSection } from "./faults.js";
import { hostileSection } from "./hostile.js";
import { racesSection } from "./races.js";
import { newSeed } from "./random.js";
import { StoreReport } from "./report.js";
import { STORE_KINDS, STORE_NAMES, type StoreKind } from "./stores.js";
import { formatReport } from "./table.js";
import { provisionTarget, type StoreTarget } from "./target.js";

const SECTIONS = ["crash", "races", "faults", "hostile"] as const;
type Section = (typeof SECTIONS)[number];

const USAGE = `Usage: npm run torture -- [--seed N] [--stores fs,postgres,redis,s3]
                        [--sections crash,races,faults,hostile] [--cycles 200]
                        [--race-steps 1000] [--cases 300] [--case-seconds 20]
                        [--concurrency 2]

Tortures every store against real servers: crash cycles (a child process
SIGKILLed at seeded random moments), races (16 engines in 4 processes on the
same runs), faults (private servers stopped and restarted mid-run) and
hostile input (fast-check properties). Progress goes to stderr; one table per
store to stdout. Exit code 1 if anything was lost, torn, corrupt, duplicated
or untyped. --seed replays the random choices of an earlier run.`;

function positive(name: string, value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    throw new RangeError(`--${name} must be a positive integer, got ${value}`);
  return parsed;
}

function listOf<T extends string>(name: string, value: string, known: readonly T[]): T[] {
  const names = value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
  const unknown = names.filter((item) => !known.includes(item as T));
  if (unknown.length > 0)
    throw new RangeError(
      `unknown --${name} ${unknown.join(", ")}; choose from ${known.join(", ")}`,
    );
  return names as T[];
}

function parseOptions() {
  const { values } = parseArgs({
    options: {
      seed: { type: "string" },
      stores: { type: "string", default: STORE_KINDS.join(",") },
      sections: { type: "string", default: SECTIONS.join(",") },
      cycles: { type: "string", default: "200" },
      "race-steps": { type: "string", default: "1000" },
      cases: { type: "string", default: "300" },
      "case-seconds": { type: "string", default: "20" },
      concurrency: { type: "string", default: "2" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return null;
  const seed = values.seed === undefined ? newSeed() : Number(values.seed);
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new RangeError(`--seed must be a non-negative integer, got ${values.seed}`);
  return {
    seed,
    stores: listOf("stores", values.stores, STORE_KINDS),
    sections: listOf("sections", values.sections, SECTIONS),
    cycles: positive("cycles", values.cycles),
    raceSteps: positive("race-steps", values["race-steps"]),
    cases: positive("cases", values.cases),
    caseSeconds: positive("case-seconds", values["case-seconds"]),
    concurrency: positive("concurrency", values.concurrency),
  };
}

type Options = NonNullable<ReturnType<typeof parseOptions>>;

const progress = (message: string) => process.stderr.write(`  ${message}\n`);

async function runSection(
  section: Section,
  kind: StoreKind,
  target: StoreTarget,
  options: Options,
  report: StoreReport,
): Promise<void> {
  const { seed } = options;
  switch (section) {
    case "crash":
      return crashSection(
        target,
        { cycles: options.cycles, concurrency: options.concurrency, seed, progress },
        report,
      );
    case "races":
      return racesSection(target, { steps: options.raceSteps, seed, progress }, report);
    case "faults":
      return faultsSection(kind, { seed, progress }, report);
    case "hostile":
      return hostileSection(
        target,
        { numRuns: options.cases, timeLimitMs: options.caseSeconds * 1000, seed, progress },
        report,
      );
  }
}

async function tortureStore(kind: StoreKind, options: Options): Promise<StoreReport> {
  process.stderr.write(`${STORE_NAMES[kind]}…\n`);
  let target: StoreTarget;
  try {
    target = await provisionTarget(kind, "main");
  } catch (error) {
    const report = new StoreReport(STORE_NAMES[kind], "could not be provisioned");
    report.fail("setup", options.seed, describeError(error));
    return report;
  }
  const report = new StoreReport(STORE_NAMES[kind], target.where);
  try {
    for (const section of options.sections) {
      const started = Date.now();
      try {
        await runSection(section, kind, target, options, report);
      } catch (error) {
        report.judge(section, "ran to the end", "no", false);
        report.fail(section, options.seed, describeError(error));
      }
      progress(`${kind} ${section}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  } finally {
    await target.dispose().catch((error: unknown) => {
      report.fail("cleanup", options.seed, describeError(error));
    });
  }
  return report;
}

async function main(): Promise<void> {
  const options = parseOptions();
  if (!options) {
    console.log(USAGE);
    return;
  }
  const started = Date.now();
  console.log(
    `torture seed ${options.seed} (replay: npm run torture -- --seed ${options.seed}); ` +
      `stores ${options.stores.join(", ")}; sections ${options.sections.join(", ")}\n`,
  );
  process.stderr.write(`seed ${options.seed}\n`);
  let passed = true;
  for (const kind of options.stores) {
    const report = await tortureStore(kind, options);
    passed &&= report.passed;
    console.log(`${formatReport(report)}\n`);
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`${passed ? "passed" : "FAILED"} in ${seconds} s, seed ${options.seed}`);
  process.exitCode = passed ? 0 : 1;
}

await main();
