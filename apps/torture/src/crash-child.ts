// A child process of the crash section: runs the plan's workflows
// concurrently on the store, reporting each append it begins and each it saw
// acknowledged, until the parent (or itself) kills it with SIGKILL.
import { WorkflowEngine } from "@wf/core";
import type { CrashPlan } from "./crash-plan.js";
import { openStore, type StoreSpec } from "./stores.js";
import { crashWorkflow, stateHash } from "./workflows.js";

const [specJson = "", planJson = ""] = process.argv.slice(2);
const spec = JSON.parse(specJson) as StoreSpec;
const plan = JSON.parse(planJson) as CrashPlan;

// Writes to a pipe are synchronous on Linux: a line is out before the next append starts.
const say = (line: string) => process.stdout.write(`${line}\n`);

/**
 * SIGKILLs this process `delayUs` from now. The wait is spun through the
 * event loop (setImmediate lets pending I/O complete in between), so the kill
 * lands at a chosen point inside an append that takes a millisecond or less.
 */
function killAfter(delayUs: number): void {
  const deadline = process.hrtime.bigint() + BigInt(delayUs) * 1000n;
  const check = () => {
    if (process.hrtime.bigint() >= deadline) process.kill(process.pid, "SIGKILL");
    else setImmediate(check);
  };
  check();
}

let begun = 0;
function begin(what: string): void {
  begun += 1;
  say(`begin ${what}`);
  if (plan.selfKill && begun === plan.selfKill.atAppend) killAfter(plan.selfKill.delayUs);
}

const storage = await openStore(spec);
say("ready");
const definition = { ...crashWorkflow(plan.workflowId, plan.nodes), storage };
await Promise.all(
  plan.sizes.map(async (sizes, index) => {
    begin(`create ${index}`);
    const engine = await WorkflowEngine.create({
      ...definition,
      initialState: { sizes, visited: [], payload: "" },
    });
    say(`ack ${engine.runId} 0 ${stateHash(engine.shared)}`);
    while (engine.status === "running") {
      begin(`${engine.runId} ${engine.headStep + 1}`);
      await engine.step();
      say(`ack ${engine.runId} ${engine.currentStep} ${stateHash(engine.shared)}`);
    }
  }),
);
say("done");
await storage.close();
