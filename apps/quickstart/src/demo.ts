import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * Walks the whole story, each act in its own process, on the filesystem
 * default (./logs). Run it with `npm run demo` from the repository root.
 */

const cli = fileURLToPath(new URL("./cli.js", import.meta.url));

function act(title: string, args: string[], expectFailure = false): string {
  console.log(`\n== ${title}\n$ wf-quickstart ${args.join(" ")}`);
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
  const output = `${result.stdout}${result.stderr}`.trimEnd();
  console.log(output.replace(/^/gm, "  "));
  if ((result.status !== 0) !== expectFailure) {
    throw new Error(
      `act "${title}" ${expectFailure ? "should have failed" : "failed"} (exit ${result.status})`,
    );
  }
  return output;
}

function runIdIn(output: string): string {
  const match = /run id: (\S+)/.exec(output);
  if (!match?.[1]) throw new Error(`no run id in:\n${output}`);
  return match[1];
}

const started = act("1. Start a run. It stops at the review, waiting for a person.", [
  "start",
  "--topic",
  "durable workflows",
]);
const runId = runIdIn(started);

act("2. A second process answers by run id; the run publishes and completes.", [
  "answer",
  runId,
  "publish",
]);

act(
  "3. Resume the same run from step 3 (the draft, before the review), answering differently: it revises and asks again. New steps continue at 7 with parent 3; steps 4-6 stay stored as a superseded branch.",
  ["resume-from", runId, "3", "--answer", "revise"],
);
act("   ...and answer the second review from yet another process.", ["answer", runId, "publish"]);

const forked = act("4. Fork the original at step 3 into a new run; the original is untouched.", [
  "fork",
  runId,
  "3",
  "--answer",
  "revise",
]);
const forkId = runIdIn(forked);
act("   Both timelines side by side (the fork reads steps 0-2 through the original):", [
  "show",
  runId,
  forkId,
]);

act(
  "5. Someone removes the outline node from the definition: resuming a run that went through it is refused.",
  ["validate", runId],
  true,
);

console.log(`
The journal is in ./logs: logs/w-article/r-<run id>/run.json is a run's metadata,
steps/000000000007.json its step 7 (see packages/storage-fs/README.md).
Original run: ${runId}
Fork:         ${forkId}`);
