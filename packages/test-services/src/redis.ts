/**
 * Redis for adapter tests: WF_TEST_REDIS_URL if set, else a
 * server answering on 127.0.0.1:6379, else a private `redis-server` from PATH
 * on a free port in a temporary directory. `startRedis` starts a private one
 * explicitly, for tests that kill, restart or reconfigure their server;
 * `startRedisCluster` starts a small Redis Cluster of private servers.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, portAnswers } from "./ports.js";

const HOST = "127.0.0.1";
const LOCAL_PORT = 6379;
const START_TIMEOUT_MS = 15_000;

const HOW_TO_PROVIDE =
  "Set WF_TEST_REDIS_URL=redis://host:port to a Redis 6+ or Valkey server the tests may write to, " +
  "run one on 127.0.0.1:6379, or put `redis-server` on PATH (apt-get install redis-server).";

export interface FoundRedis {
  url: string;
  /** Where it came from: the environment variable, the standard local port, or a private server. */
  source: "env" | "local" | "private";
  /** Stops the server if it is a private one; leaves any other alone. */
  stop(): Promise<void>;
}

export interface PrivateRedis {
  url: string;
  port: number;
  /** Its working directory (RDB, AOF), kept across restarts and removed by `stop`. */
  dir: string;
  /** SIGKILL, as a crash or power cut would: nothing is flushed beyond what the server already did. */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory, after `kill` or `shutdown`. */
  restart(): Promise<void>;
  /** SIGTERM (clean shutdown) without removing the directory, so `restart` can follow. */
  shutdown(): Promise<void>;
  /** Shuts it down and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

export interface StartRedisOptions {
  /**
   * Server settings as on the redis-server command line, e.g.
   * `{ appendonly: "yes", appendfsync: "always" }`; an array gives several
   * arguments (`{ "rename-command": ["CONFIG", ""] }`). By default the server
   * persists nothing (`save ""`, `appendonly no`).
   */
  config?: Record<string, string | string[]>;
  /** Port to listen on. Default: a free one. */
  port?: number;
}

/** The Redis tests should use, in the order above; throws saying how to provide one if none can be had. */
export async function findRedis(): Promise<FoundRedis> {
  const fromEnv = process.env.WF_TEST_REDIS_URL;
  if (fromEnv) return { url: fromEnv, source: "env", stop: async () => {} };
  if (await portAnswers(HOST, LOCAL_PORT)) {
    return { url: `redis://${HOST}:${LOCAL_PORT}`, source: "local", stop: async () => {} };
  }
  const server = await startRedis();
  return { url: server.url, source: "private", stop: () => server.stop() };
}

/** Starts a private redis-server; see PrivateRedis. */
export async function startRedis(options: StartRedisOptions = {}): Promise<PrivateRedis> {
  const port = options.port ?? (await freePort(HOST));
  const dir = mkdtempSync(join(tmpdir(), "wf-redis-"));
  const settings: Record<string, string | string[]> = {
    port: String(port),
    bind: HOST,
    dir,
    save: "",
    appendonly: "no",
    "protected-mode": "no",
    daemonize: "no",
    ...options.config,
  };
  const args = Object.entries(settings).flatMap(([name, value]) => [
    `--${name}`,
    ...(Array.isArray(value) ? value : [value]),
  ]);
  let child: ChildProcess | null = null;
  let removed = false;

  const start = async () => {
    child = await spawnServer(args, port);
  };
  const signal = async (name: NodeJS.Signals) => {
    const running = child;
    child = null;
    if (running) await stopProcess(running, name);
  };

  try {
    await start();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `redis://${HOST}:${port}`,
    port,
    dir,
    kill: () => signal("SIGKILL"),
    restart: async () => {
      if (child) throw new Error(`redis-server on port ${port} is still running`);
      await start();
    },
    shutdown: () => signal("SIGTERM"),
    stop: async () => {
      await signal("SIGTERM");
      if (!removed) rmSync(dir, { recursive: true, force: true });
      removed = true;
    },
  };
}

export interface PrivateRedisCluster {
  /** Startup nodes for `new Cluster(nodes)`. */
  nodes: { host: string; port: number }[];
  stop(): Promise<void>;
}

/**
 * A Redis Cluster of `masters` private servers (no replicas), slots spread
 * over them by `redis-cli --cluster create`, resolved once every node reports
 * the cluster ok.
 */
export async function startRedisCluster(masters = 3): Promise<PrivateRedisCluster> {
  const servers: PrivateRedis[] = [];
  const stop = async () => {
    await Promise.all(servers.map((server) => server.stop()));
  };
  try {
    for (let i = 0; i < masters; i++) {
      servers.push(
        await startRedis({
          config: {
            "cluster-enabled": "yes",
            "cluster-config-file": "nodes.conf",
            "cluster-node-timeout": "5000",
          },
        }),
      );
    }
    await run("redis-cli", [
      "--cluster",
      "create",
      ...servers.map((server) => `${HOST}:${server.port}`),
      "--cluster-replicas",
      "0",
      "--cluster-yes",
    ]);
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (const server of servers) {
      while (!(await command(server.port, "CLUSTER INFO")).includes("cluster_state:ok")) {
        if (Date.now() > deadline) throw new Error("the private Redis Cluster did not become ok");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes: servers.map((server) => ({ host: HOST, port: server.port })), stop };
}

/** Servers still running, killed if the test process exits without stopping them. */
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

async function spawnServer(args: string[], port: number): Promise<ChildProcess> {
  const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  running.add(child);
  child.once("exit", () => running.delete(child));
  const failed = new Promise<never>((_, reject) => {
    child.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        new Error(
          error.code === "ENOENT"
            ? `redis-server is not on PATH. ${HOW_TO_PROVIDE}`
            : `could not start redis-server: ${error.message}. ${HOW_TO_PROVIDE}`,
        ),
      ),
    );
    child.once("exit", (code, signal) =>
      reject(new Error(`redis-server exited (${signal ?? code}) while starting:\n${output}`)),
    );
  });
  failed.catch(() => {});
  try {
    await Promise.race([failed, waitForPong(port)]);
  } catch (error) {
    // A server that never answered is of no use: do not leave it running.
    child.kill("SIGKILL");
    throw error;
  }
  // Not needed after startup; dropping the pipes lets the process run unread.
  child.stdout?.removeListener("data", keep).resume();
  child.stderr?.removeListener("data", keep).resume();
  return child;
}

/** Waits until PING gets PONG (not merely a listening port: the server may still be loading). */
async function waitForPong(port: number): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (
      await command(port, "PING").then(
        // A server started with a password answers NOAUTH: it is up all the same.
        (reply) => reply.startsWith("+PONG") || reply.startsWith("-NOAUTH"),
        () => false,
      )
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(
    `redis-server did not answer PING on ${HOST}:${port} within ${START_TIMEOUT_MS} ms`,
  );
}

/** Sends one inline command and resolves to the raw reply (enough for PING and CLUSTER INFO). */
function command(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let reply = "";
    socket.setTimeout(1000, () => socket.destroy(new Error("no reply")));
    socket.once("error", reject);
    socket.on("data", (chunk) => {
      reply += chunk.toString();
      if (
        reply.endsWith("\r\n") &&
        (reply.startsWith("+") || reply.startsWith("-") || isComplete(reply))
      ) {
        socket.end();
        resolve(reply);
      }
    });
    socket.connect(port, HOST, () => socket.write(`${line}\r\n`));
  });
}

/** Whether a bulk-string reply ($len\r\n…\r\n) has fully arrived. */
function isComplete(reply: string): boolean {
  const header = /^\$(-?\d+)\r\n/.exec(reply);
  if (!header) return false;
  const length = Number(header[1]);
  return length < 0 || Buffer.byteLength(reply) >= header[0].length + length + 2;
}

async function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

function run(file: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: START_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (!error) resolve();
      else if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        reject(new Error(`${file} is not on PATH; it comes with redis-server. ${HOW_TO_PROVIDE}`));
      } else {
        reject(new Error(`${file} ${args.join(" ")} failed: ${error.message}\n${stdout}${stderr}`));
      }
    });
  });
}

/** The two commands `deleteKeys` needs, as ioredis's client (or a cluster node's) has them. */
export interface ScanningClient {
  scan(
    cursor: string,
    match: "MATCH",
    pattern: string,
    count: "COUNT",
    n: number,
  ): Promise<[string, string[]]>;
  unlink(...keys: string[]): Promise<number>;
}

/**
 * Deletes every key matching `prefix*`, scanning in batches: how tests and
 * benches remove what they wrote under a prefix of their own. The prefix
 * must hold no glob characters.
 */
export async function deleteKeys(client: ScanningClient, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    if (keys.length > 0) await client.unlink(...keys);
    cursor = next;
  } while (cursor !== "0");
}
