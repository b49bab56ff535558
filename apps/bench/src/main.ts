import { parseArgs } from "node:util";
import { type BenchOptions, type BenchResult, benchTarget } from "./measure.js";
import { formatTable } from "./table.js";
import type { BenchTarget } from "./target.js";

const ALL_TARGETS = ["memory", "fs", "postgres", "redis", "s3"];

const USAGE = `Usage: npm run bench -- [--targets memory,fs,postgres,redis,s3] [--history 10000]
                      [--samples 200] [--lookups 30] [--state-bytes 1024] [--json]

Times each store through the engine: median ms per step at history 10 and at
--history, the raw durable write of the same bytes in the same process,
getLatestStep and fork at both lengths, bytes and requests per step.
Progress goes to stderr; the table (or JSON with --json) to stdout.`;

function positive(name: string, value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    throw new RangeError(`--${name} must be a positive integer, got ${value}`);
  return parsed;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      targets: { type: "string", default: ALL_TARGETS.join(",") },
      history: { type: "string", default: "10000" },
      samples: { type: "string", default: "200" },
      lookups: { type: "string", default: "30" },
      "state-bytes": { type: "string", default: "1024" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const names = values.targets
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = names.filter((name) => !ALL_TARGETS.includes(name));
  if (unknown.length > 0)
    throw new RangeError(
      `unknown target(s) ${unknown.join(", ")}; choose from ${ALL_TARGETS.join(", ")}`,
    );
  const options: BenchOptions = {
    longHistory: positive("history", values.history),
    samples: positive("samples", values.samples),
    lookups: positive("lookups", values.lookups),
    stateBytes: positive("state-bytes", values["state-bytes"]),
    progress: (message) => process.stderr.write(`  ${message}\n`),
  };

  const results: BenchResult[] = [];
  const failures: { target: string; error: string }[] = [];
  for (const name of names) {
    process.stderr.write(`${name}…\n`);
    try {
      const { target } = (await import(`./targets/${name}.js`)) as { target: BenchTarget };
      results.push(await benchTarget(target, options));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      failures.push({ target: name, error: message });
      process.stderr.write(`  ${name} could not be measured: ${message}\n`);
    }
  }
  if (values.json) {
    console.log(
      JSON.stringify({ options: { ...options, progress: undefined }, results, failures }, null, 2),
    );
  } else {
    console.log(formatTable(results));
    console.log(
      "\nMedians in ms. append: storage.appendStep of a ready record; step: an engine step (node, state check, append);\n" +
        "raw: the backend's raw durable write of the same bytes, timed alternately with them; ratios at the long history.",
    );
  }
  if (failures.length > 0) process.exitCode = 1;
}

await main();
