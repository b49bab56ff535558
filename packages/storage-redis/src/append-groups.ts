/**
 * How the appends of one group-commit flight are sent (see GroupCommit of
 * @wf/core/storage for how flights form). A flight is split by workflow: a workflow's keys
 * share one hash tag, so its appends can go as one script call
 * (APPEND_STEPS), on Cluster too; a lone append is the plain APPEND_STEP.
 * The calls of different workflows are issued together, and the client
 * pipelines them on its connection (on Cluster, on each node's). Every
 * append keeps its own outcome.
 */
import { RunNotFoundError, StepConflictError, type StepRecord } from "@wf/core";
import type { Outcome, Queued } from "@wf/core/storage";
import type { CallState, Deadline, RedisClient } from "./client.js";
import type { KeyLayout } from "./keys.js";
import { APPEND_STEP, type AppendReply, appendSteps, type GroupedAppend } from "./scripts.js";

/** What the appends go to: the store's client, key layout and retention. */
export interface AppendTarget {
  client: RedisClient;
  keys: KeyLayout;
  /** 0: runs never expire. */
  ttlMs: number;
}

/** An append on its way: the record, its script arguments (the JSON serialised once), its call. */
export interface PendingAppend extends Queued {
  record: StepRecord;
  script: GroupedAppend;
  call: CallState;
}

/**
 * One outcome per append of the flight, in order. An append whose caller's
 * deadline passed while it waited is not sent: the caller has been
 * answered, and nothing is held to be written later.
 */
export async function sendAppends(
  store: AppendTarget,
  appends: PendingAppend[],
): Promise<Outcome[]> {
  const outcomes: Outcome[] = new Array(appends.length);
  /** Which outcomes are known: an undefined one means stored. */
  const known = new Array<boolean>(appends.length).fill(false);
  const byWorkflow = new Map<string, number[]>();
  for (const [i, append] of appends.entries()) {
    // Its caller has had the deadline's error, which says it was not sent.
    if (append.call.deadline.expired) {
      outcomes[i] = new Error("not sent: the deadline passed while it waited");
      known[i] = true;
      continue;
    }
    append.call.progress.sent = true;
    const workflowId = append.record.workflowId;
    const group = byWorkflow.get(workflowId);
    if (group) group.push(i);
    else byWorkflow.set(workflowId, [i]);
  }
  const sending = Promise.all(
    [...byWorkflow].map(async ([workflowId, indexes]) => {
      const group = indexes.map((i) => appends[i] as PendingAppend);
      const results =
        group.length === 1
          ? [await appendAlone(store, group[0] as PendingAppend)]
          : await appendGroup(store, workflowId, group);
      for (const [j, i] of indexes.entries()) {
        outcomes[i] = results[j];
        known[i] = true;
      }
    }),
  );
  // A reply that never comes (a handed client has no command timeout) must
  // not hold the appends queued behind it for ever: once every caller of
  // this flight has had its deadline's answer, the flight's slot is free.
  await Promise.race([sending, allExpired(appends.map((append) => append.call.deadline))]);
  return appends.map((_, i) =>
    known[i] ? outcomes[i] : new Error("no answer before the deadline of every append"),
  );
}

async function appendAlone(
  { client, keys: layout, ttlMs }: AppendTarget,
  { record, script }: PendingAppend,
): Promise<Outcome> {
  const keys = layout.runKeys(record.workflowId, record.runId);
  try {
    const reply = (await APPEND_STEP.run(client, keys, [
      script.step,
      script.json,
      script.status,
      script.updatedAt,
      ttlMs,
    ])) as AppendReply;
    return appendOutcome(record, reply);
  } catch (error) {
    return toError(error);
  }
}

/** Appends to runs of one workflow in one script call; each keeps its own outcome. */
async function appendGroup(
  { client, keys, ttlMs }: AppendTarget,
  workflowId: string,
  group: PendingAppend[],
): Promise<Outcome[]> {
  try {
    const replies = await appendSteps(
      client,
      keys.indexKeys(workflowId),
      group.map((append) => append.script),
      ttlMs,
    );
    return replies.map((reply, i) =>
      reply instanceof Error ? reply : appendOutcome((group[i] as PendingAppend).record, reply),
    );
  } catch (error) {
    // The call as a whole failed (connection, deadline): every append of it shares the error.
    return group.map(() => toError(error));
  }
}

/** An append's outcome from its script reply: stored (undefined), RUN_NOT_FOUND or STEP_CONFLICT. */
function appendOutcome({ workflowId, runId, step }: StepRecord, reply: AppendReply): Outcome {
  if (reply[0] === 0) return new RunNotFoundError(workflowId, runId);
  if (reply[0] === 1) return new StepConflictError(workflowId, runId, step, Number(reply[1]));
  return undefined;
}

/** Resolves once every deadline has passed. */
function allExpired(deadlines: Deadline[]): Promise<void> {
  return new Promise((resolve) => {
    let pending = deadlines.length;
    for (const deadline of deadlines) {
      deadline.whenExpired(() => {
        pending -= 1;
        if (pending === 0) resolve();
      });
    }
  });
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
