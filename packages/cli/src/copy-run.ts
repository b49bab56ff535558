import { hasErrorCode, type RunMetadata, type StepRecord, type WorkflowStorage } from "@wf/core";
import { canonicalMetadata, canonicalRecord, JournalHash } from "./copy-hash.js";
import type { CopyOutcome, RunCopyResult } from "./copy-report.js";
import { StepReader } from "./copy-steps.js";

/** What copying one run needs from the copy as a whole. */
export interface RunCopyContext {
  from: WorkflowStorage;
  to: WorkflowStorage;
  stepPageSize: number;
  signal: AbortSignal | undefined;
  /** Called once per source step dealt with: compared with the destination, or written to it. */
  stepDone(written: boolean): void;
}

/** The signal asked to stop; `stepsCopied` were written to the run being copied before that. */
export class CopyAborted extends Error {
  constructor(readonly stepsCopied: number) {
    super("The copy was stopped; run it again to resume.");
    this.name = "CopyAborted";
  }
}

/** Why a run's outcome is not a success, raised where it is found and turned into a result. */
class RunSkipped extends Error {
  constructor(
    readonly outcome: CopyOutcome,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** Fields that name a run's identity: a destination run that differs in one is another run. */
function identity(run: RunMetadata): string {
  return JSON.stringify([run.formatVersion, run.createdAt, run.forkedFrom, run.definition]);
}

/** A source read: damage and deletion in the source skip the run instead of failing the copy. */
async function fromSource<T>(read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (error) {
    if (hasErrorCode(error, "CORRUPT_RECORD")) {
      throw new RunSkipped("damaged-in-source", (error as Error).message);
    }
    if (hasErrorCode(error, "RUN_NOT_FOUND")) {
      throw new RunSkipped(
        "deleted-in-source",
        "the run was deleted from the source while copying",
      );
    }
    throw error;
  }
}

/** A destination read: a damaged destination run is a conflict, left as it is. */
async function fromDestination<T>(read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (error) {
    if (hasErrorCode(error, "CORRUPT_RECORD")) {
      throw new RunSkipped(
        "conflict",
        `the destination's run is damaged (${(error as Error).message}); it was left untouched: delete it there (wf delete) and copy again`,
      );
    }
    throw error;
  }
}

/** A destination write: losing a race to another writer is a conflict, never retried over. */
async function toDestination(write: Promise<void>): Promise<void> {
  try {
    await write;
  } catch (error) {
    if (
      hasErrorCode(error, "RUN_EXISTS") ||
      hasErrorCode(error, "STEP_CONFLICT") ||
      hasErrorCode(error, "RUN_NOT_FOUND")
    ) {
      throw new RunSkipped(
        "conflict",
        "another writer changed the destination's run while it was being copied; run the copy again",
      );
    }
    throw error;
  }
}

async function destinationRun(
  store: WorkflowStorage,
  run: RunMetadata,
): Promise<RunMetadata | null> {
  try {
    return await fromDestination(store.getRun(run.workflowId, run.runId));
  } catch (error) {
    if (hasErrorCode(error, "RUN_NOT_FOUND")) return null;
    throw error;
  }
}

/**
 * Copies one run as `snapshot` (its metadata as listed) describes it: its
 * steps up to `snapshot.headStep`, superseded branches included, since a
 * store keeps every appended record and listSteps returns them all.
 *
 * The run is created with its first stored record and the metadata it had
 * then (head at that step, status and updatedAt from that record), and every
 * later record is appended in step order, so the destination's metadata
 * advances as the source's did and ends equal to it. A destination run that
 * holds the first records of the source, equal one for one, is continued
 * from its head; any other destination run is a conflict and is not written.
 * The result's hash is then checked against the destination read back.
 */
export async function copyRun(
  context: RunCopyContext,
  snapshot: RunMetadata,
): Promise<RunCopyResult> {
  const { workflowId, runId } = snapshot;
  const firstStep = snapshot.forkedFrom?.step ?? 0;
  let written = 0;
  const result = (
    outcome: CopyOutcome,
    sha256: string | null,
    reason: string | null = null,
  ): RunCopyResult => ({
    workflowId,
    runId,
    outcome,
    steps: snapshot.headStep - firstStep + 1,
    stepsCopied: written,
    sha256,
    reason,
  });
  const write = async (action: () => Promise<void>): Promise<void> => {
    // Stop between writes only: each write is atomic, so what is left is a prefix of the source.
    if (context.signal?.aborted) throw new CopyAborted(written);
    await toDestination(action());
    written += 1;
    context.stepDone(true);
  };

  try {
    const source = new StepReader(
      context.from,
      workflowId,
      runId,
      snapshot.headStep,
      context.stepPageSize,
    );
    const hash = new JournalHash().metadata(snapshot);
    const existing = await destinationRun(context.to, snapshot);
    if (existing) {
      await compareWithDestination(context, snapshot, existing, source, hash);
      if (existing.headStep === snapshot.headStep) {
        if (canonicalMetadata(existing) !== canonicalMetadata(snapshot)) {
          return result(
            "conflict",
            null,
            "the destination's run has every step but different metadata (status or updatedAt); it was left untouched",
          );
        }
        return result("already-copied", hash.digest());
      }
    } else {
      const first = await fromSource(source.next());
      if (first?.step !== firstStep) {
        throw new RunSkipped(
          "damaged-in-source",
          `the source lists no step ${firstStep}, the run's first stored step`,
        );
      }
      const created: RunMetadata = {
        ...snapshot,
        headStep: first.step,
        status: first.status,
        updatedAt: first.createdAt,
      };
      await write(() => context.to.createRun(created, first));
      hash.record(first);
    }
    for (;;) {
      const record: StepRecord | undefined = await fromSource(source.next());
      if (!record) break;
      await write(() => context.to.appendStep(record));
      hash.record(record);
    }
    const sha256 = hash.digest();
    const failure = await verify(context, snapshot, sha256, hash.steps);
    if (failure) return result("verify-failed", sha256, failure);
    return result(existing ? "resumed" : "copied", sha256);
  } catch (error) {
    if (error instanceof RunSkipped) return result(error.outcome, null, error.reason);
    throw error;
  }
}

/**
 * Reads the destination's records beside the source's, one page of each at
 * a time, and throws a conflict at the first difference. Leaves `source`
 * positioned after the destination's head and `hash` fed with what was read.
 */
async function compareWithDestination(
  context: RunCopyContext,
  snapshot: RunMetadata,
  existing: RunMetadata,
  source: StepReader,
  hash: JournalHash,
): Promise<void> {
  const conflict = (why: string) =>
    new RunSkipped(
      "conflict",
      `the destination holds a different run under these ids (${why}); it was left untouched: copy to another store, or delete it there (wf delete) and copy again`,
    );
  if (identity(existing) !== identity(snapshot)) {
    throw conflict("its createdAt, forkedFrom, definition or format differ");
  }
  if (existing.headStep > snapshot.headStep) {
    throw conflict(`its head is step ${existing.headStep}, the source's ${snapshot.headStep}`);
  }
  const destination = new StepReader(
    context.to,
    existing.workflowId,
    existing.runId,
    existing.headStep,
    context.stepPageSize,
  );
  for (;;) {
    const have = await fromDestination(destination.next());
    if (!have) return;
    const want = await fromSource(source.next());
    const text = want && canonicalRecord(want);
    if (!want || !text || want.step !== have.step || text !== canonicalRecord(have)) {
      throw conflict(`step ${have.step} differs`);
    }
    hash.record(want, text);
    context.stepDone(false);
  }
}

/** Reads the destination's run back and says what differs from the source, or null. */
async function verify(
  context: RunCopyContext,
  snapshot: RunMetadata,
  sha256: string,
  steps: number,
): Promise<string | null> {
  const run = await fromDestination(context.to.getRun(snapshot.workflowId, snapshot.runId));
  const hash = new JournalHash().metadata(run);
  const reader = new StepReader(
    context.to,
    run.workflowId,
    run.runId,
    run.headStep,
    context.stepPageSize,
  );
  for (
    let record = await fromDestination(reader.next());
    record;
    record = await fromDestination(reader.next())
  ) {
    hash.record(record);
  }
  if (hash.steps !== steps) {
    return `the destination reads back ${hash.steps} steps where the source has ${steps}`;
  }
  const readBack = hash.digest();
  if (readBack !== sha256) {
    return `the destination reads back content with sha256 ${readBack}, the source's is ${sha256}: the destination store does not keep records exactly`;
  }
  return null;
}
