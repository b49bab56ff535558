import { parseArgs } from "node:util";
import { type BytesResult, benchBytes } from "./bytes.js";
import { benchConcurrency, type ConcurrencyResult } from "./concurrency.js";
import { type BenchOptions, type BenchResult, benchTarget } from "./measure.js";
import { benchPeers, PEERS, type PeerName, type PeerResult } from "./peers.js";
import {
  formatBytesTable,
  formatConcurrencyTable,
  formatPeersTable,
  formatTable,
} from "./table.js";
import type { BenchTarget } from "./target.js";
import { WORKERS_OPTIONS, WORKERS_USAGE, withBareWorkers } from "./workers-args.js";

const ALL_TARGETS = ["memory", "fs", "postgres", "redis", "s3"];

const USAGE = `Usage: npm run bench -- [--targets memory,fs,postgres,redis,s3] [--history 10000]
                      [--samples 200] [--lookups 30] [--state-bytes 1024]
                      [--concurrency 64] [--pool 10] [--rounds 5]
                      [--peers langgraph,dbos] [--peer-steps 1000,10000] [--peer-rounds 3]
                      [--bytes 1024,102400,1048576] [--json]

Times each store through the engine: median ms per step at history 10 and at
--history, the raw durable write of the same bytes in the same process,
getLatestStep and fork at both lengths, bytes and requests per step.
Then, for each K of --concurrency (a comma list, or "none"), K runs stepping
at once in one process on a pool of --pool connections, against K concurrent
raw writes over the same pool: throughput, median of --rounds rounds.
With postgres among the targets, then the peers (LangGraph.js with
PostgresSaver, DBOS Transact; "none" to skip) and @wf on PostgreSQL, each looping one node --peer-steps times with
--state-bytes of state, taking turns: ms per step. Then, for each store and
each state size of --bytes ("none" to skip), bytes kept per step beside the
record's JSON and a delta-encoded record.
Progress goes to stderr; the tables (or JSON with --json) to stdout.

${WORKERS_USAGE}`;

/** A comma-separated option's items, trimmed, empty ones dropped. */
function list(value: string): string[] {
  return value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
}

function positive(name: string, value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    throw new RangeError(`--${name} must be a positive integer, got ${value}`);
  return parsed;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: withBareWorkers(process.argv.slice(2)),
    options: {
      ...WORKERS_OPTIONS,
      targets: { type: "string", default: ALL_TARGETS.join(",") },
      history: { type: "string", default: "10000" },
      samples: { type: "string", default: "200" },
      lookups: { type: "string", default: "30" },
      "state-bytes": { type: "string", default: "1024" },
      concurrency: { type: "string", default: "64" },
      pool: { type: "string", default: "10" },
      rounds: { type: "string", default: "5" },
      peers: { type: "string", default: PEERS.join(",") },
      "peer-steps": { type: "string", default: "1000,10000" },
      "peer-rounds": { type: "string", default: "3" },
      bytes: { type: "string", default: "1024,102400,1048576" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.workers !== undefined) {
    const { runWorkersCommand } = await import("./workers-command.js");
    await runWorkersCommand(values);
    return;
  }
  const names = list(values.targets);
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

  const concurrency =
    values.concurrency === "none"
      ? []
      : list(values.concurrency).map((k) => positive("concurrency", k));
  const pool = positive("pool", values.pool);
  const peers = values.peers === "none" ? [] : list(values.peers);
  const unknownPeers = peers.filter((name) => !(PEERS as readonly string[]).includes(name));
  if (unknownPeers.length > 0)
    throw new RangeError(
      `unknown peer(s) ${unknownPeers.join(", ")}; choose from ${PEERS.join(", ")}`,
    );
  const peerSteps = list(values["peer-steps"]).map((n) => positive("peer-steps", n));
  const peerRounds = positive("peer-rounds", values["peer-rounds"]);
  const stateSizes =
    values.bytes === "none" ? [] : list(values.bytes).map((n) => positive("bytes", n));
  const rounds = positive("rounds", values.rounds);

  const results: BenchResult[] = [];
  const concurrent: ConcurrencyResult[] = [];
  const sizes: BytesResult[] = [];
  let peerResults: PeerResult[] = [];
  const failures: { target: string; error: string }[] = [];
  for (const name of names) {
    process.stderr.write(`${name}…\n`);
    try {
      const { target } = (await import(`./targets/${name}.js`)) as { target: BenchTarget };
      results.push(await benchTarget(target, options));
      for (const runs of concurrency) {
        concurrent.push(
          await benchConcurrency(target, {
            runs,
            connections: pool,
            // Enough steps per round that a round outlasts scheduling noise, at any K.
            stepsPerRound: Math.max(5, Math.ceil(Math.min(options.samples, 200) / Math.sqrt(runs))),
            rounds,
            stateBytes: options.stateBytes,
            progress: options.progress,
          }),
        );
      }
      for (const stateBytes of stateSizes) {
        // Enough steps to see the growth, few enough that 1 MB states stay quick.
        const steps = Math.max(5, Math.min(100, Math.floor(200_000_000 / (stateBytes * 100))));
        options.progress(`${name}: bytes per step at ${stateBytes} bytes of state`);
        sizes.push(await benchBytes(target, stateBytes, steps));
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      failures.push({ target: name, error: message });
      process.stderr.write(`  ${name} could not be measured: ${message}\n`);
    }
  }
  // The peers run on PostgreSQL, so with it.
  if (names.includes("postgres") && peers.length > 0 && peerSteps.length > 0) {
    process.stderr.write("peers…\n");
    try {
      peerResults = await benchPeers({
        steps: peerSteps,
        rounds: peerRounds,
        stateBytes: options.stateBytes,
        peers: peers as PeerName[],
        progress: options.progress,
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      failures.push({ target: "peers", error: message });
      process.stderr.write(`  peers could not be measured: ${message}\n`);
    }
  }
  if (values.json) {
    console.log(
      JSON.stringify(
        {
          options: { ...options, progress: undefined, concurrency, pool, rounds },
          results,
          concurrency: concurrent,
          peers: peerResults,
          bytes: sizes,
          failures,
        },
        null,
        2,
      ),
    );
  } else {
    console.log(formatTable(results));
    console.log(
      "\nMedians in ms. append: storage.appendStep of a ready record; step: an engine step (node, state check, append);\n" +
        "raw: the backend's raw durable write of the same bytes, timed alternately with them; ratios at the long history.",
    );
    if (concurrent.length > 0) {
      console.log(`\n${formatConcurrencyTable(concurrent)}`);
      console.log(
        "\nThroughput, median of the rounds: K runs stepping at once in one process, then K writers of the raw write\n" +
          "(same bytes) over the same pool, alternately.",
      );
    }
    if (peerResults.length > 0) {
      console.log(`\n${formatPeersTable(peerResults)}`);
      console.log(
        "\nms per step of one node looping with the same state on the same PostgreSQL, median of the rounds,\n" +
          "systems taking turns; x @wf: how many times the step of @wf each one takes.",
      );
    }
    if (sizes.length > 0) {
      console.log(`\n${formatBytesTable(sizes)}`);
      console.log(
        "\nBytes per step. stored: growth of what the store keeps (on-disk size for fs, pg_column_size for PostgreSQL,\n" +
          "MEMORY USAGE for Redis, object sizes for S3, - where it cannot tell); record: the step's JSON; delta record:\n" +
          "the same record with only the state's changed keys.",
      );
    }
  }
  if (failures.length > 0) process.exitCode = 1;
}

await main();
