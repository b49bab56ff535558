/**
 * PostgreSQL for adapter tests and benchmarks: the server named
 * by WF_TEST_POSTGRES_URL, else one answering on 127.0.0.1:5432, else a
 * private cluster made with `initdb` and run with `pg_ctl` in a temporary
 * directory. Tests that stop or crash the server start their own private one
 * with `startPrivatePostgres()`.
 */
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { freePort, portAnswers, waitForPort } from "./ports.js";

const run = promisify(execFile);

export const POSTGRES_URL_ENV = "WF_TEST_POSTGRES_URL";
const LOCAL_HOST = "127.0.0.1";
const LOCAL_PORT = 5432;
/** A local server is assumed to trust the `postgres` user on loopback, as a developer install does. */
const LOCAL_URL = `postgres://postgres@${LOCAL_HOST}:${LOCAL_PORT}/postgres`;
/** Generous: initdb and the first start fsync a few MB, slow on a busy CI machine. */
const START_TIMEOUT_MS = 60_000;

const HOW_TO_PROVIDE =
  `Set ${POSTGRES_URL_ENV} (e.g. postgres://postgres@127.0.0.1:5432/postgres), ` +
  `run PostgreSQL on ${LOCAL_HOST}:${LOCAL_PORT} with trust auth for the postgres user, ` +
  "or put PostgreSQL's initdb and pg_ctl on PATH (apt-get install postgresql).";

export interface PostgresService {
  /** Connection string of a database the tests may create schemas in. */
  url: string;
  /** Where it came from: the environment, a local server, or a private cluster started here. */
  source: "env" | "local" | "private";
  /** Stops and removes the server if it was started here; otherwise does nothing. */
  stop(): Promise<void>;
}

/**
 * The server the tests use, found in the order above. Throws,
 * saying how to provide one, when none can be had: never a silent skip.
 */
export async function findPostgres(): Promise<PostgresService> {
  const fromEnv = process.env[POSTGRES_URL_ENV];
  if (fromEnv) return { url: fromEnv, source: "env", stop: async () => {} };
  if (await portAnswers(LOCAL_HOST, LOCAL_PORT)) {
    return { url: LOCAL_URL, source: "local", stop: async () => {} };
  }
  const server = await startPrivatePostgres();
  return { url: server.url, source: "private", stop: () => server.destroy() };
}

/** A PostgreSQL cluster of this process's own, for tests that stop, crash or restart the server. */
export interface PrivatePostgres {
  /** Connection string (user postgres, trust auth, database postgres). */
  readonly url: string;
  readonly port: number;
  /** The cluster's data directory. */
  readonly dataDir: string;
  /** Clean shutdown (`pg_ctl stop -m fast`): sessions are terminated, data is kept. */
  stop(): Promise<void>;
  /** Crash-like shutdown (`pg_ctl stop -m immediate`): no checkpoint; the next start runs recovery. */
  kill(): Promise<void>;
  /** Starts the stopped or killed cluster again on the same port and data. */
  restart(): Promise<void>;
  /** Stops the cluster if it runs and deletes its files. */
  destroy(): Promise<void>;
}

/**
 * Makes a cluster with `initdb` in a temporary directory and starts it on a
 * free loopback port. PostgreSQL refuses to run as root, so as root the
 * cluster belongs to, and runs as, the `postgres` OS user.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const initdb = findBinary("initdb");
  const pgCtl = findBinary("pg_ctl");
  const asUser = await serverUser();
  const root = await mkdtemp(join(tmpdir(), "wf-pg-"));
  if (asUser) await chown(root, asUser.uid, asUser.gid);
  const dataDir = join(root, "data");
  const logFile = join(root, "server.log");
  const port = await freePort(LOCAL_HOST);
  const exec = (file: string, args: string[]) =>
    asUser ? run("runuser", ["-u", asUser.name, "--", file, ...args]) : run(file, args);

  try {
    await exec(initdb, [
      "-D",
      dataDir,
      "-U",
      "postgres",
      "--auth=trust",
      "--encoding=UTF8",
      "--locale=C",
      "--no-sync",
    ]);
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw new Error(`initdb failed: ${explain(error)}. ${HOW_TO_PROVIDE}`, { cause: error });
  }

  const serverOptions = [
    `-p ${port}`,
    `-c listen_addresses=${LOCAL_HOST}`,
    `-c unix_socket_directories=${root}`,
    "-c max_connections=60",
  ].join(" ");
  let postmasterPid: number | undefined;
  const killOnExit = () => {
    // A test process that dies must not leave a server behind.
    if (postmasterPid !== undefined) {
      try {
        process.kill(postmasterPid, "SIGQUIT");
      } catch {}
    }
  };
  process.once("exit", killOnExit);

  const start = async () => {
    try {
      await exec(pgCtl, [
        "-D",
        dataDir,
        "-l",
        logFile,
        "-o",
        serverOptions,
        "-w",
        "-t",
        "60",
        "start",
      ]);
    } catch (error) {
      throw new Error(`pg_ctl start failed: ${explain(error)}\n${tail(logFile)}`, { cause: error });
    }
    await waitForPort(LOCAL_HOST, port, START_TIMEOUT_MS, "private PostgreSQL");
    postmasterPid = readPostmasterPid(dataDir);
  };
  const shutdown = async (mode: "fast" | "immediate") => {
    await exec(pgCtl, ["-D", dataDir, "-m", mode, "-w", "-t", "60", "stop"]);
    postmasterPid = undefined;
  };

  try {
    await start();
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw error;
  }

  return {
    url: `postgres://postgres@${LOCAL_HOST}:${port}/postgres`,
    port,
    dataDir,
    stop: () => shutdown("fast"),
    kill: () => shutdown("immediate"),
    restart: start,
    async destroy() {
      if (postmasterPid !== undefined) await shutdown("immediate");
      process.off("exit", killOnExit);
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** initdb/pg_ctl from PATH, else from Debian's versioned directory, which is not on PATH by default. */
function findBinary(name: string): string {
  const onPath = (process.env.PATH ?? "").split(delimiter).map((dir) => join(dir, name));
  const debian = existsSync("/usr/lib/postgresql")
    ? readdirSync("/usr/lib/postgresql")
        .sort()
        .reverse()
        .map((version) => join("/usr/lib/postgresql", version, "bin", name))
    : [];
  const found = [...onPath, ...debian].find((candidate) => existsSync(candidate));
  if (!found)
    throw new Error(`No PostgreSQL server could be had: ${name} is not on PATH. ${HOW_TO_PROVIDE}`);
  return found;
}

/** The OS user to run the cluster as: `postgres` when we are root (PostgreSQL refuses root), else ourselves. */
async function serverUser(): Promise<{ name: string; uid: number; gid: number } | null> {
  if (process.getuid?.() !== 0) return null;
  try {
    const [uid, gid] = await Promise.all([
      run("id", ["-u", "postgres"]),
      run("id", ["-g", "postgres"]),
    ]);
    return { name: "postgres", uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch (error) {
    throw new Error(
      `Running as root, a private PostgreSQL needs the "postgres" OS user, which does not exist. ${HOW_TO_PROVIDE}`,
      { cause: error },
    );
  }
}

function readPostmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-20).join("\n");
  } catch {
    return "(no server log)";
  }
}

function explain(error: unknown): string {
  const { message, stderr } = error as { message?: string; stderr?: string };
  return (stderr?.trim() || message) ?? String(error);
}
