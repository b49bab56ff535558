// A child process of the races section: several engines in this process
// step the same runs as the engines of the other processes. Each engine
// opens a run, steps it until it completes, and on STEP_CONFLICT opens it
// again; it then moves on to the next run that is not completed. Any other
// error is reported and the run opened again, up to MAX_ERRORS. Lines:
//
//   ack <run index> <step> <engine>   this engine's append of that step was acknowledged
//   stats <engine> <conflicts>        when the engine is done (or gives up)
//   error <engine> <code> <message>   an error other than STEP_CONFLICT (code "untyped" if none)
//   gave-up <engine> <message>        more than MAX_ERRORS of them; the process exits 1
import { hasErrorCode, WorkflowEngine } from "@wf/core";
import { describeError, errorCode } from "./error-text.js";
import { openStore, type StoreSpec } from "./stores.js";
import { type TickState, tickWorkflow } from "./workflows.js";

const [specJson = "", workflowId = "", runIdsJson = "", processArg = "0", enginesArg = "4"] =
  process.argv.slice(2);
const spec = JSON.parse(specJson) as StoreSpec;
const runIds = JSON.parse(runIdsJson) as string[];
const processIndex = Number(processArg);
const storage = await openStore(spec);
const say = (line: string) => process.stdout.write(`${line}\n`);

/** Errors other than STEP_CONFLICT an engine reports and survives before it gives up. */
const MAX_ERRORS = 20;

async function engineLoop(engineIndex: number): Promise<void> {
  const label = `p${processIndex}e${engineIndex}`;
  const definition = { ...tickWorkflow(workflowId, label), storage };
  let conflicts = 0;
  let errors = 0;
  const met = (error: unknown) => {
    if (hasErrorCode(error, "STEP_CONFLICT")) {
      conflicts += 1;
      return;
    }
    errors += 1;
    say(
      `error ${label} ${errorCode(error) ?? "untyped"} ${describeError(error).replace(/\n/g, " ")}`,
    );
    if (errors > MAX_ERRORS) throw error;
  };
  const open = async (runId: string) => {
    for (;;) {
      try {
        return await WorkflowEngine.create<TickState>({ ...definition, runId });
      } catch (error) {
        met(error);
      }
    }
  };
  try {
    // Engines start on different runs, so every run is contended from the start.
    for (let offset = 0; offset < runIds.length; offset++) {
      const runIndex = (engineIndex + processIndex + offset) % runIds.length;
      const runId = runIds[runIndex] as string;
      let engine = await open(runId);
      while (engine.status === "running") {
        try {
          await engine.step();
          say(`ack ${runIndex} ${engine.currentStep} ${label}`);
        } catch (error) {
          met(error);
          engine = await open(runId);
        }
      }
    }
  } finally {
    say(`stats ${label} ${conflicts}`);
  }
}

const engines = Number(enginesArg);
const outcomes = await Promise.allSettled(
  Array.from({ length: engines }, (_, index) => engineLoop(index)),
);
await storage.close();
outcomes.forEach((outcome, index) => {
  if (outcome.status === "rejected") {
    say(`gave-up p${processIndex}e${index} ${describeError(outcome.reason).replace(/\n/g, " ")}`);
    process.exitCode = 1;
  }
});
