import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { runCli } from "@wf/cli";
import { type JsonValue, WorkflowEngine, type WorkflowStorage } from "@wf/core";
import { openStore } from "@wf/store-url";
import loan, { type LoanState, WORKFLOW_ID } from "./loan.js";

/** The definition module `wf fork` and `wf answer` load: this app's compiled loan.js. */
const DEFINITION = fileURLToPath(new URL("./loan.js", import.meta.url));

export interface WhatIfOptions {
  /** Store URL (default file:./logs). */
  store: string;
  /** The answer the fork gives the review instead of "approve". */
  answer: string;
  /** State the second fork changes before scoring. */
  changes: Partial<LoanState>;
  /** Where the story is told. */
  out: (line: string) => void;
}

export interface WhatIfResult {
  original: { runId: string; outcome: string };
  answerFork: { runId: string; outcome: string; from: number };
  stateFork: { runId: string; outcome: string; from: number };
}

class Collect extends Writable {
  text = "";
  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

/** Runs `wf args…` on the store; returns what it printed on stdout, failing loudly otherwise. */
async function wf(store: string, args: string[]): Promise<string> {
  const stdout = new Collect();
  const stderr = new Collect();
  const code = await runCli(["--store", store, ...args], { stdout, stderr, env: process.env });
  if (code !== 0) throw new Error(`wf ${args.join(" ")} exited with ${code}: ${stderr.text}`);
  return stdout.text;
}

async function outcomeOf(storage: WorkflowStorage, runId: string): Promise<string> {
  const head = await storage.getLatestStep(WORKFLOW_ID, runId);
  return String((head.shared as { outcome?: JsonValue }).outcome ?? head.status);
}

/**
 * The story: an application is approved; what if the reviewer had answered
 * otherwise (a fork at the question, through `wf fork`), or the applicant had
 * earned more (a fork at the start with changed state, through the API)?
 */
export async function whatIf(options: WhatIfOptions): Promise<WhatIfResult> {
  const { store, out } = options;
  const storage = await openStore(store);
  try {
    out(`Journal: ${store}`);
    const original = await WorkflowEngine.create<LoanState>({
      ...loan,
      storage,
      initialState: { applicant: "Ada", income: 52_000, amount: 30_000 },
    });
    await original.run();
    await original.run({ review: "approve" });
    const originalOutcome = await outcomeOf(storage, original.runId);
    out(`\n1. The original run ${original.runId}: review answered "approve": ${originalOutcome}.`);

    // The step that asked the question: where a different answer would have changed the story.
    const { steps } = JSON.parse(
      await wf(store, ["steps", WORKFLOW_ID, original.runId, "--json"]),
    ) as {
      steps: { step: number; waitingFor: string | null }[];
    };
    const asked = steps.find((step) => step.waitingFor === "review");
    if (!asked) throw new Error("the original run never asked for a review");

    out(`\n2. What if the review had answered "${options.answer}"? wf fork at step ${asked.step}:`);
    const forkArgs = [
      "fork",
      WORKFLOW_ID,
      original.runId,
      "--from",
      String(asked.step),
      "--answer",
      `review=${options.answer}`,
      "--definition",
      DEFINITION,
    ];
    const forked = JSON.parse(await wf(store, [...forkArgs, "--json"])) as {
      runId: string;
      status: string;
    };
    out(`   $ wf ${forkArgs.join(" ").replace(DEFINITION, "loan.js")}`);
    if (forked.status === "waiting_for_input") {
      // A counter-offer asks again, for the smaller amount: approve that one.
      await wf(store, [
        "answer",
        WORKFLOW_ID,
        forked.runId,
        "review=approve",
        "--definition",
        DEFINITION,
      ]);
      out(`   $ wf answer ${WORKFLOW_ID} ${forked.runId} review=approve --definition loan.js`);
    }
    const answerOutcome = await outcomeOf(storage, forked.runId);
    out(`   fork ${forked.runId}: ${answerOutcome}.`);

    out(
      `\n3. What if the applicant had had ${JSON.stringify(options.changes)}? A fork at step 0 through the API:`,
    );
    const stateFork = await WorkflowEngine.create<LoanState>({
      ...loan,
      storage,
      runId: original.runId,
      resumeFrom: 0,
      fork: true,
    });
    // The live state is journalled with the next step, so the change is in the fork's journal, not only in memory.
    Object.assign(stateFork.shared, options.changes);
    await stateFork.run();
    await stateFork.run({ review: "approve" });
    const stateOutcome = await outcomeOf(storage, stateFork.runId);
    out(`   fork ${stateFork.runId}: ${stateOutcome}.`);

    out("\nThe runs, as `wf runs` lists them:");
    out((await wf(store, ["runs", WORKFLOW_ID, "--limit", "3"])).trimEnd());
    for (const [title, fork] of [
      ["answer", forked.runId],
      ["state", stateFork.runId],
    ] as const) {
      const head = (await storage.getRun(WORKFLOW_ID, fork)).headStep;
      const originalHead = original.headStep;
      out(
        `\nOriginal against the ${title} fork (wf diff ${WORKFLOW_ID} ${original.runId}@${originalHead} ${fork}@${head}):`,
      );
      out(
        (
          await wf(store, [
            "diff",
            WORKFLOW_ID,
            `${original.runId}@${originalHead}`,
            `${fork}@${head}`,
          ])
        ).trimEnd(),
      );
    }
    out("\nThe original run is unchanged: each fork kept its own journal.");
    return {
      original: { runId: original.runId, outcome: originalOutcome },
      answerFork: { runId: forked.runId, outcome: answerOutcome, from: asked.step },
      stateFork: { runId: stateFork.runId, outcome: stateOutcome, from: 0 },
    };
  } finally {
    await storage.close();
  }
}
