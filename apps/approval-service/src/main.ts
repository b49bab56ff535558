#!/usr/bin/env node
/**
 * One command for the whole service: the HTTP API and N worker processes
 * (`--role all`, the default), only the API (`--role server`), or only
 * workers (`--role worker`, for a second machine pointing at the same
 * Redis or PostgreSQL).
 */
import { type ChildProcess, fork } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { type Backend, openBackend } from "./backend.js";
import {
  ConfigError,
  configToArgs,
  maskUrl,
  parseConfig,
  type ServiceConfig,
  USAGE,
} from "./config.js";
import { type HttpServer, startServer } from "./server.js";
import { CLOSE_TIMEOUT_MS } from "./worker.js";

const say = (text: string) => process.stdout.write(`approval-service: ${text}\n`);

/** How long a closing worker may take before it is killed: its own close gives up steps after CLOSE_TIMEOUT_MS. */
const WORKER_CLOSE_MS = CLOSE_TIMEOUT_MS + 20_000;

interface WorkerChild {
  readonly index: number;
  readonly child: ChildProcess;
  /** Resolves once the worker reports `ready`; rejects, with its stderr, if it exits first. */
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
}

/**
 * Forks a worker process with this process's configuration. Its JSON lines
 * are passed on to this process's stdout and stderr, prefixed.
 */
function forkWorker(index: number, config: ServiceConfig): WorkerChild {
  const script = fileURLToPath(new URL("./worker.js", import.meta.url));
  const child = fork(script, configToArgs(config), { stdio: ["ignore", "pipe", "pipe", "ipc"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let stderr = "";
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", (text) => {
    stderr = `${stderr}${text}\n`.slice(-4_000);
    process.stderr.write(`[worker ${index}] ${text}\n`);
  });
  const ready = new Promise<void>((resolve, reject) => {
    let isReady = false;
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (text) => {
      process.stdout.write(`[worker ${index}] ${text}\n`);
      if (!isReady && text.includes('"event":"ready"')) {
        isReady = true;
        resolve();
      }
    });
    child.once("exit", (code, signal) => {
      if (!isReady) {
        reject(
          new Error(`worker ${index} exited (${signal ?? code}) before it was ready:\n${stderr}`),
        );
      }
    });
  });
  // Observed here so that a failure while another step of start-up awaits is not unhandled.
  ready.catch(() => {});
  return { index, child, ready, exited };
}

/** Asks each worker to close (SIGTERM), and kills one that has not after WORKER_CLOSE_MS. */
async function stopWorkers(workers: readonly WorkerChild[]): Promise<void> {
  await Promise.all(
    workers.map(async ({ child, exited }) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), WORKER_CLOSE_MS);
      await exited;
      clearTimeout(timer);
    }),
  );
}

function curlExamples(url: string): string {
  return [
    "try:",
    `  curl -s -X POST ${url}/requests -H 'content-type: application/json' -H 'Idempotency-Key: order-42' \\`,
    `       -d '{"amount": 420, "requester": "ada", "description": "conference ticket"}'`,
    `  curl -s ${url}/requests?status=waiting_for_input`,
    `  curl -s ${url}/requests/<runId>`,
    `  curl -s '${url}/requests/<runId>/wait?timeoutMs=10000'`,
    `  curl -s -X POST ${url}/requests/<runId>/answer -H 'content-type: application/json' -d '{"approve": "yes"}'`,
    `  curl -s -X POST ${url}/requests/<runId>/cancel -d '{"reason": "changed my mind"}'`,
  ].join("\n  ");
}

async function main(argv: readonly string[]): Promise<void> {
  const parsed = parseConfig(argv);
  if (parsed.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const { config } = parsed;
  const runsWorkers = config.role !== "server" && config.workers > 0;
  const runsServer = config.role !== "worker";
  if (config.role === "worker" && config.workers === 0) {
    throw new ConfigError(
      "--role worker with --workers 0 would run nothing: give --workers 1 or more.",
    );
  }
  const url = config.backend === "redis" ? config.redisUrl : config.postgresUrl;
  say(
    `backend ${config.backend} on ${maskUrl(url)}, namespace ${config.namespace}, role ${config.role}`,
  );

  const workers: WorkerChild[] = [];
  let backend: Backend | null = null;
  let server: HttpServer | null = null;
  let stopping = false;
  const shutdown = async (why: string, code: number) => {
    if (stopping) return;
    stopping = true;
    say(`stopping (${why})`);
    await server?.close();
    await Promise.all([stopWorkers(workers), backend?.close()]);
    say("stopped");
    process.exit(code);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM", 0));
  process.on("SIGINT", () => void shutdown("SIGINT", 0));

  try {
    if (runsWorkers) {
      for (let i = 1; i <= config.workers; i++) workers.push(forkWorker(i, config));
    }
    if (runsServer) {
      backend = openBackend(config);
      say(`using ${backend.description}`);
      server = await startServer({
        storage: backend.storage,
        queue: backend.queue,
        host: config.host,
        port: config.port,
      });
    }
    await Promise.all(workers.map((worker) => worker.ready));
  } catch (error) {
    await Promise.allSettled([server?.close(), stopWorkers(workers), backend?.close()]);
    throw error;
  }

  for (const worker of workers) {
    void worker.exited.then(() => {
      if (stopping) return;
      const left = workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
      say(
        `worker ${worker.index} exited (${worker.child.signalCode ?? worker.child.exitCode}); ` +
          "the queue hands its jobs to another worker once their lease lapses",
      );
      if (left.length === 0 && !runsServer) void shutdown("every worker exited", 1);
    });
  }
  if (runsWorkers) {
    say(
      `${workers.length} worker processes ready (pids ${workers.map((w) => w.child.pid).join(", ")}), ${config.concurrency} runs each at once`,
    );
  }
  if (server) {
    say(`listening on ${server.url}`);
    say(curlExamples(server.url));
  }
  say("ready");
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const message =
    error instanceof ConfigError ? error.message : ((error as Error).stack ?? String(error));
  process.stderr.write(`approval-service: ${message}\n`);
  process.exit(1);
});
