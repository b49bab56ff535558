// A child process of the cross-process tests. It loads the adapter's factory
// module (WF_CONFORMANCE_MODULE), opens one store on the shared data, warms it
// on the run under test (so connecting is not part of any race), reports
// ready, then does exactly what the parent tells it over IPC, one command at a
// time, and answers each. Between commands it only waits: that is where the
// parent lines children up for a race, or kills one between two writes. It
// never closes its store: the parent kills it when the test ends.
// No vitest here: the child is plain Node.
import type { RunMetadata, StepRecord, WorkflowStorage } from "@wf/core";
import { collectPages } from "./records.js";

/** What the parent sends. */
export type ChildCommand =
  | { type: "append"; record: StepRecord }
  | { type: "read"; workflowId: string; runId: string };

/** What the child answers. */
export type ChildReply =
  | { type: "ready" }
  | { type: "appended"; step: number }
  | { type: "refused"; step: number; code: string | null; message: string }
  | { type: "read"; run: RunMetadata; steps: StepRecord[] }
  | { type: "failed"; message: string };

interface FactoryOptions {
  create: (context: object) => WorkflowStorage | Promise<WorkflowStorage>;
}

const send = (reply: ChildReply) =>
  new Promise<void>((resolve, reject) =>
    (process.send as NonNullable<typeof process.send>)(reply, (error: Error | null) =>
      error ? reject(error) : resolve(),
    ),
  );

async function main(): Promise<void> {
  const target = process.env.WF_CONFORMANCE_MODULE;
  const workflowId = process.env.WF_CONFORMANCE_WORKFLOW_ID;
  const runId = process.env.WF_CONFORMANCE_RUN_ID;
  if (!target || !workflowId || !runId || !process.send) {
    throw new Error("cross-process-child is started by the conformance suite, not by hand");
  }
  const { default: exported } = (await import(target)) as { default: unknown };
  const options = (typeof exported === "function" ? { create: exported } : exported) as
    | FactoryOptions
    | undefined;
  if (typeof options?.create !== "function") {
    throw new TypeError(`${target} must default-export a factory or { create, … }`);
  }
  const store = await options.create({});
  // Connect, migrate, open files: everything before the first append, so a race is a race of appends.
  await store.getRun(workflowId, runId);

  let queue = Promise.resolve();
  process.on("message", (command: ChildCommand) => {
    queue = queue.then(() => handle(command)).catch(fail);
  });
  // A parent that dies without killing us (a crashed test runner) must not leave us behind.
  process.on("disconnect", () => process.exit(0));
  await send({ type: "ready" });

  async function handle(command: ChildCommand): Promise<void> {
    if (command.type === "append") {
      try {
        await store.appendStep(command.record);
        await send({ type: "appended", step: command.record.step });
      } catch (error) {
        const { code, message } = error as { code?: unknown; message?: unknown };
        await send({
          type: "refused",
          step: command.record.step,
          code: typeof code === "string" ? code : null,
          message: String(message),
        });
      }
    } else {
      const run = await store.getRun(command.workflowId, command.runId);
      const steps = await collectPages((cursor) =>
        store.listSteps(command.workflowId, command.runId, { cursor }),
      );
      await send({ type: "read", run, steps });
    }
  }
}

async function fail(error: unknown): Promise<void> {
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  if (process.send && process.connected) await send({ type: "failed", message });
  else console.error(message);
  process.exit(1);
}

main().catch(fail);
