/**
 * Faults: a run steps in a loop on a private server of the torture's own
 * (never the shared ones), the server is stopped mid-run and restarted. The
 * table gives the time until the first STORAGE_UNAVAILABLE after the stop,
 * the time from the restart until a step succeeds again, and the steps lost:
 * acknowledged, yet not in the journal afterwards (must be 0).
 */
import { WorkflowEngine, type WorkflowStorage } from "@wf/core";
import { startPrivatePostgres } from "@wf/test-services/postgres";
import { startRedis } from "@wf/test-services/redis";
import { startS3 } from "@wf/test-services/s3";
import { describeError, errorCode } from "./error-text.js";
import { readSteps, timelineBreaks } from "./journal.js";
import type { StoreReport } from "./report.js";
import { openStore, type StoreKind, type StoreSpec } from "./stores.js";
import { sleep, within } from "./wait.js";
import { stateHash, type TickState, tickWorkflow } from "./workflows.js";

/** Steps acknowledged before the stop, and again after the recovery. */
const STEPS_AROUND = 30;
/** How long the server stays down after the first STORAGE_UNAVAILABLE. */
const OUTAGE_MS = 1_000;
/** Bounds each wait: a store that never reports, or never recovers, fails the section. */
const WAIT_BOUND_MS = 90_000;
/** Pause between attempts while the store is down. */
const RETRY_PAUSE_MS = 50;

export interface FaultOptions {
  seed: number;
  progress: (message: string) => void;
}

/** A private server that can be stopped and started again on the same port and data. */
interface FaultServer {
  spec: StoreSpec;
  /** How it is stopped and restarted, for the table. */
  how: string;
  stop(): Promise<void>;
  restart(): Promise<void>;
  destroy(): Promise<void>;
}

async function startFaultServer(kind: Exclude<StoreKind, "fs">): Promise<FaultServer> {
  switch (kind) {
    case "postgres": {
      const server = await startPrivatePostgres();
      return {
        spec: { kind, url: server.url, schema: "wf_faults" },
        how: `private, port ${server.port}: pg_ctl stop -m immediate (a crash), start`,
        stop: () => server.kill(),
        restart: () => server.restart(),
        destroy: () => server.destroy(),
      };
    }
    case "redis": {
      // Without AOF a killed Redis forgets everything: that would be a lost step by configuration.
      const server = await startRedis({ config: { appendonly: "yes", appendfsync: "always" } });
      return {
        spec: { kind, url: server.url, prefix: "wf-faults:" },
        how: `private, port ${server.port}, appendfsync always: SIGKILL, restart`,
        stop: () => server.kill(),
        restart: () => server.restart(),
        destroy: () => server.stop(),
      };
    }
    case "s3": {
      const server = await startS3();
      return {
        spec: { kind, config: server.config, prefix: "wf-faults/" },
        // test-services can drop the endpoint and listen again on the same port
        // and data dir, but cannot stop s3rver itself and keep its data.
        how: `private s3rver, port ${server.port}: endpoint dropped, then listening again (s3rver kept running)`,
        stop: () => server.kill(),
        restart: () => server.restart(),
        destroy: () => server.stop(),
      };
    }
  }
}

async function until(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + WAIT_BOUND_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${WAIT_BOUND_MS} ms`);
    await sleep(10);
  }
}

/** The stepping loop and what it saw, with times in ms since the epoch. */
class SteppingRun {
  readonly acks = new Map<number, string>();
  readonly errors = new Map<string, number>();
  stopBegan: number | undefined;
  firstUnavailable: number | undefined;
  restarted: number | undefined;
  recovered: number | undefined;
  #stopping = false;
  #engine: WorkflowEngine<TickState>;
  readonly #storage: WorkflowStorage;

  constructor(engine: WorkflowEngine<TickState>, storage: WorkflowStorage) {
    this.#engine = engine;
    this.#storage = storage;
  }

  get runId(): string {
    return this.#engine.runId;
  }

  #note(error: unknown): void {
    const code = errorCode(error);
    const name = code ?? `untyped ${describeError(error)}`;
    this.errors.set(name, (this.errors.get(name) ?? 0) + 1);
    if (code === "STORAGE_UNAVAILABLE" && this.stopBegan !== undefined) {
      this.firstUnavailable ??= Date.now();
    }
  }

  /** Opens the run again after a failed step: the append may or may not have committed. */
  async #reopen(): Promise<void> {
    while (!this.#stopping) {
      try {
        this.#engine = await within(
          WAIT_BOUND_MS,
          "opening the run",
          WorkflowEngine.create<TickState>({
            ...tickWorkflow("faults"),
            storage: this.#storage,
            runId: this.runId,
          }),
        );
        return;
      } catch (error) {
        this.#note(error);
        await sleep(RETRY_PAUSE_MS);
      }
    }
  }

  async loop(): Promise<void> {
    while (!this.#stopping) {
      try {
        await within(WAIT_BOUND_MS, "a step", this.#engine.step());
        this.acks.set(this.#engine.currentStep, stateHash(this.#engine.shared));
        if (this.restarted !== undefined) this.recovered ??= Date.now();
      } catch (error) {
        this.#note(error);
        await sleep(RETRY_PAUSE_MS);
        await this.#reopen();
      }
    }
  }

  stop(): void {
    this.#stopping = true;
  }
}

async function tortureServer(
  server: FaultServer,
  kind: StoreKind,
  options: FaultOptions,
  report: StoreReport,
): Promise<void> {
  const storage = await openStore(server.spec);
  let stepping: SteppingRun | undefined;
  let looping: Promise<void> | undefined;
  try {
    const engine = await WorkflowEngine.create<TickState>({
      ...tickWorkflow("faults"),
      storage,
      initialState: { count: 0, goal: Number.MAX_SAFE_INTEGER, by: "" },
    });
    const run = new SteppingRun(engine, storage);
    stepping = run;
    looping = run.loop();
    await until("the first steps", () => run.acks.size >= STEPS_AROUND);
    options.progress(`${kind} faults: stopping the server after ${run.acks.size} steps`);
    run.stopBegan = Date.now();
    await server.stop();
    const stopTook = Date.now() - run.stopBegan;
    await until("STORAGE_UNAVAILABLE", () => run.firstUnavailable !== undefined);
    await sleep(OUTAGE_MS);
    const restartBegan = Date.now();
    await server.restart();
    run.restarted = Date.now();
    options.progress(`${kind} faults: restarted; waiting for a step to succeed`);
    await until("a step after the restart", () => run.recovered !== undefined);
    const before = run.acks.size;
    await until("the steps after recovery", () => run.acks.size >= before + STEPS_AROUND);
    run.stop();
    await looping;

    const fresh = await openStore(server.spec);
    let lost = 0;
    let breaks: string[];
    try {
      const records = await readSteps(fresh, "faults", run.runId);
      const byStep = new Map(records.map((record) => [record.step, record]));
      for (const [step, hash] of run.acks) {
        const record = byStep.get(step);
        if (!record || stateHash(record.shared) !== hash) lost += 1;
      }
      breaks = timelineBreaks(records);
      for (const record of records) {
        if ((record.shared as TickState).count !== record.step) {
          breaks.push(`step ${record.step} holds count ${(record.shared as TickState).count}`);
        }
      }
    } finally {
      await fresh.close();
    }
    const untyped = [...run.errors.keys()].filter((name) => name.startsWith("untyped"));
    const errors = [...run.errors].map(([name, count]) => `${name} ×${count}`).join(", ");
    report.info("faults", "server", server.how);
    report.info("faults", "stop took", `${stopTook} ms`);
    report.judge(
      "faults",
      "first STORAGE_UNAVAILABLE after the stop began",
      `${(run.firstUnavailable as number) - run.stopBegan} ms`,
      true,
    );
    report.judge("faults", "errors met while down", errors, untyped.length === 0);
    report.info("faults", "restart took", `${run.restarted - restartBegan} ms`);
    report.judge(
      "faults",
      "first successful step after the restart",
      `${(run.recovered as number) - run.restarted} ms`,
      true,
    );
    report.info("faults", "acknowledged steps", run.acks.size);
    report.judge("faults", "steps lost", lost, lost === 0);
    report.judge("faults", "timeline breaks", breaks.length, breaks.length === 0);
    if (lost > 0 || breaks.length > 0 || untyped.length > 0) {
      report.fail(
        "faults",
        options.seed,
        [`${lost} acknowledged steps lost`, ...breaks.slice(0, 5), ...untyped].join(" | "),
      );
    }
  } finally {
    stepping?.stop();
    await looping?.catch(() => {});
    await storage.close();
  }
}

/** Stops and restarts a private server of `kind` mid-run and adds the faults rows to the report. */
export async function faultsSection(
  kind: StoreKind,
  options: FaultOptions,
  report: StoreReport,
): Promise<void> {
  if (kind === "fs") {
    report.info(
      "faults",
      "server stopped and restarted",
      "n/a: no server to stop; and as root a read-only directory does not refuse writes",
    );
    return;
  }
  const server = await startFaultServer(kind);
  try {
    await tortureServer(server, kind, options, report);
  } finally {
    await server.destroy();
  }
}
