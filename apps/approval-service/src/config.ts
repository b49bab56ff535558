import { parseArgs } from "node:util";

/** Where runs are journalled and queued: Redis for both, or PostgreSQL for both. */
export type Backend = "redis" | "postgres";

/** What this process runs: the HTTP API, worker processes, or both. */
export type Role = "server" | "worker" | "all";

/**
 * Everything a server or worker process needs to know. Every process of one
 * deployment, on every machine, must agree on `backend`, the URL and
 * `namespace`: they name the shared queue and journal.
 */
export interface ServiceConfig {
  backend: Backend;
  redisUrl: string;
  postgresUrl: string;
  /**
   * Names what this deployment owns on the shared servers: the Redis key
   * prefix and BullMQ queue, or the PostgreSQL schema and pg-boss schema.
   * Two deployments with different namespaces never see each other's runs.
   */
  namespace: string;
  role: Role;
  host: string;
  /** HTTP port; 0 picks a free one (printed at start). */
  port: number;
  /** Worker processes to start (role worker or all). */
  workers: number;
  /** Jobs (runs) each worker process handles at once. */
  concurrency: number;
  /** How often each worker re-enqueues running runs that lost their job. */
  sweepIntervalMs: number;
  /** A risk service to POST `{ amount, requester }` to; without it, a simulated check. */
  riskUrl: string | null;
  /** How long the simulated risk check takes. */
  riskDelayMs: number;
  /** A webhook to POST each decision to, with an `Idempotency-Key` header; without it, stdout. */
  notifyUrl: string | null;
}

export const DEFAULTS: ServiceConfig = {
  backend: "redis",
  redisUrl: "redis://127.0.0.1:6379",
  postgresUrl: "postgres://postgres@127.0.0.1:5432/postgres",
  namespace: "approval",
  role: "all",
  host: "127.0.0.1",
  port: 3000,
  workers: 2,
  concurrency: 4,
  sweepIntervalMs: 60_000,
  riskUrl: null,
  riskDelayMs: 3_000,
  notifyUrl: null,
};

/** A flag or environment variable with a value the service cannot use. */
export class ConfigError extends Error {
  readonly code = "CONFIG_INVALID";
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export const USAGE = `approval-service: an expense approval HTTP API and its workers on @wf/worker.

  node dist/main.js [options]            (npm start -- [options])

  --backend redis|postgres   queue and journal: BullMQ + Redis, or pg-boss + PostgreSQL (default redis)
  --redis-url URL            default ${DEFAULTS.redisUrl}            (env REDIS_URL)
  --postgres-url URL         default ${DEFAULTS.postgresUrl} (env POSTGRES_URL)
  --namespace NAME           key prefix / queue / schema of this deployment (default ${DEFAULTS.namespace})
  --role server|worker|all   what this process runs (default all)
  --host HOST --port N       where the HTTP API listens (default ${DEFAULTS.host}:${DEFAULTS.port}; 0 = any free port)
  --workers N                worker processes to start (default ${DEFAULTS.workers})
  --concurrency N            runs each worker handles at once (default ${DEFAULTS.concurrency}, env WORKER_CONCURRENCY)
  --sweep-interval-ms N      how often workers pick up runs left without a job (default ${DEFAULTS.sweepIntervalMs})
  --risk-url URL             POST {amount, requester} there for {score}; default: a simulated check
  --risk-delay-ms N          how long the simulated check takes (default ${DEFAULTS.riskDelayMs})
  --notify-url URL           POST decisions there with an Idempotency-Key header; default: print them
  --help`;

const FLAGS = {
  backend: { type: "string" },
  "redis-url": { type: "string" },
  "postgres-url": { type: "string" },
  namespace: { type: "string" },
  role: { type: "string" },
  host: { type: "string" },
  port: { type: "string" },
  workers: { type: "string" },
  concurrency: { type: "string" },
  "sweep-interval-ms": { type: "string" },
  "risk-url": { type: "string" },
  "risk-delay-ms": { type: "string" },
  "notify-url": { type: "string" },
  help: { type: "boolean" },
} as const;

/** The result of reading the command line: a configuration, or a request for the usage text. */
export type ParsedArgs = { help: true } | { help: false; config: ServiceConfig };

/**
 * Reads flags, then the environment, then the defaults. Throws ConfigError
 * naming the flag and the form it takes, so a typo fails at start rather
 * than as a connection timeout later.
 */
export function parseConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): ParsedArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options: FLAGS, strict: true }));
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}. Run with --help for the options.`);
  }
  if (values.help === true) return { help: true };
  const text = (flag: string, fallback: string): string => {
    const value = values[flag];
    return typeof value === "string" ? value : fallback;
  };
  const config: ServiceConfig = {
    backend: oneOf("--backend", text("backend", DEFAULTS.backend), ["redis", "postgres"]),
    redisUrl: url("--redis-url", text("redis-url", env.REDIS_URL ?? DEFAULTS.redisUrl), [
      "redis:",
      "rediss:",
    ]),
    postgresUrl: url(
      "--postgres-url",
      text("postgres-url", env.POSTGRES_URL ?? DEFAULTS.postgresUrl),
      ["postgres:", "postgresql:"],
    ),
    namespace: namespace(text("namespace", DEFAULTS.namespace)),
    role: oneOf("--role", text("role", DEFAULTS.role), ["server", "worker", "all"]),
    host: nonEmpty("--host", text("host", DEFAULTS.host)),
    port: integer("--port", text("port", String(DEFAULTS.port)), 0, 65_535),
    workers: integer("--workers", text("workers", String(DEFAULTS.workers)), 0, 64),
    concurrency: integer(
      "--concurrency",
      text("concurrency", env.WORKER_CONCURRENCY ?? String(DEFAULTS.concurrency)),
      1,
      1_000,
    ),
    sweepIntervalMs: integer(
      "--sweep-interval-ms",
      text("sweep-interval-ms", String(DEFAULTS.sweepIntervalMs)),
      1_000,
      86_400_000,
    ),
    riskUrl: optionalUrl("--risk-url", values["risk-url"]),
    riskDelayMs: integer(
      "--risk-delay-ms",
      text("risk-delay-ms", String(DEFAULTS.riskDelayMs)),
      0,
      3_600_000,
    ),
    notifyUrl: optionalUrl("--notify-url", values["notify-url"]),
  };
  return { help: false, config };
}

/**
 * The flags that give a worker child process the same configuration as its
 * parent: what `main` passes to every `worker.js` it forks.
 */
export function configToArgs(config: ServiceConfig): string[] {
  const args = [
    "--backend",
    config.backend,
    "--redis-url",
    config.redisUrl,
    "--postgres-url",
    config.postgresUrl,
    "--namespace",
    config.namespace,
    "--concurrency",
    String(config.concurrency),
    "--sweep-interval-ms",
    String(config.sweepIntervalMs),
    "--risk-delay-ms",
    String(config.riskDelayMs),
  ];
  if (config.riskUrl) args.push("--risk-url", config.riskUrl);
  if (config.notifyUrl) args.push("--notify-url", config.notifyUrl);
  return args;
}

/** A URL for printing: the password, if any, replaced by `***`. */
export function maskUrl(value: string): string {
  try {
    const parsed = new URL(value);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return value;
  }
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(
      `${flag} must be one of ${allowed.join(", ")}; got ${JSON.stringify(value)}.`,
    );
  }
  return value as T;
}

function nonEmpty(flag: string, value: string): string {
  if (value.length === 0) throw new ConfigError(`${flag} must not be empty.`);
  return value;
}

function integer(flag: string, value: string, min: number, max: number): number {
  const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new ConfigError(
      `${flag} must be an integer from ${min} to ${max}; got ${JSON.stringify(value)}.`,
    );
  }
  return parsed;
}

function url(flag: string, value: string, protocols: readonly string[]): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(
      `${flag} must be a URL like ${protocols[0]}//host:port; got ${JSON.stringify(maskUrl(value))}.`,
    );
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(
      `${flag} must start with ${protocols.map((p) => `${p}//`).join(" or ")}; got ${JSON.stringify(maskUrl(value))}.`,
    );
  }
  return value;
}

function optionalUrl(flag: string, value: string | boolean | undefined): string | null {
  if (typeof value !== "string") return null;
  return url(flag, value, ["http:", "https:"]);
}

/**
 * The namespace becomes a PostgreSQL schema (and `<namespace>_pgboss`), a
 * Redis key prefix and a BullMQ queue name, so it keeps to what all of them
 * accept: a lower-case identifier of at most 40 characters.
 */
function namespace(value: string): string {
  if (!/^[a-z_][a-z0-9_]{0,39}$/.test(value) || value.startsWith("pg_")) {
    throw new ConfigError(
      `--namespace must be 1-40 of a-z, 0-9 and _, not starting with a digit or pg_; got ${JSON.stringify(value)}.`,
    );
  }
  return value;
}
