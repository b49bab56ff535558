import type { WorkflowStorage } from "@wf/core";
import { BullMQQueue } from "@wf/queue-bullmq";
import { PgBossQueue } from "@wf/queue-pg-boss";
import { PostgresStorage } from "@wf/storage-postgres";
import { RedisStorage } from "@wf/storage-redis";
import type { RunQueue } from "@wf/worker";
import { maskUrl, type ServiceConfig } from "./config.js";

/** The journal and the queue one process uses, opened together and closed together. */
export interface Backend {
  readonly storage: WorkflowStorage;
  readonly queue: RunQueue;
  /** A one-line description for start-up messages, passwords masked. */
  readonly description: string;
  /** Closes the queue, then the store. Idempotent. */
  close(): Promise<void>;
}

/**
 * Opens the store and queue of `config.backend`, both under
 * `config.namespace`: on Redis the key prefix `<namespace>:` and the BullMQ
 * queue `<namespace>-runs`; on PostgreSQL the schema `<namespace>` and
 * pg-boss's schema `<namespace>_pgboss`. Every process of a deployment opens
 * the same ones, which is all it takes to share the work between machines.
 */
export function openBackend(config: ServiceConfig): Backend {
  const { storage, queue, description } =
    config.backend === "redis" ? openRedis(config) : openPostgres(config);
  let closing: Promise<void> | null = null;
  return {
    storage,
    queue,
    description,
    close() {
      closing ??= (async () => {
        await queue.close();
        await storage.close();
      })();
      return closing;
    },
  };
}

function openRedis(config: ServiceConfig) {
  const storage = new RedisStorage({
    url: config.redisUrl,
    prefix: `${config.namespace}:`,
    logger: { warn: (message: string) => process.stderr.write(`${message}\n`) },
  });
  const queue = new BullMQQueue({
    connection: redisConnection(config.redisUrl),
    queueName: `${config.namespace}-runs`,
    prefix: "wf-bull",
  });
  return {
    storage,
    queue,
    description: `BullMQ queue ${config.namespace}-runs and journal keys ${config.namespace}:* on ${maskUrl(config.redisUrl)}`,
  };
}

function openPostgres(config: ServiceConfig) {
  const storage = new PostgresStorage({
    connectionString: config.postgresUrl,
    schema: config.namespace,
  });
  const queue = new PgBossQueue({
    connectionString: config.postgresUrl,
    schema: `${config.namespace}_pgboss`,
    queueName: `${config.namespace}-runs`,
  });
  return {
    storage,
    queue,
    description: `pg-boss schema ${config.namespace}_pgboss and journal schema ${config.namespace} on ${maskUrl(config.postgresUrl)}`,
  };
}

/** ioredis options from a `redis://` or `rediss://` URL, as BullMQ takes them. */
export function redisConnection(value: string): {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
  tls?: Record<string, never>;
  maxRetriesPerRequest: null;
} {
  const parsed = new URL(value);
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) {
    throw new TypeError(
      `The Redis URL's path must be a database number (redis://host:6379/0); got ${JSON.stringify(parsed.pathname)}.`,
    );
  }
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1",
    port: parsed.port ? Number(parsed.port) : 6379,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    db,
    ...(parsed.protocol === "rediss:" ? { tls: {} } : {}),
    // BullMQ workers block on Redis and must never give up a command.
    maxRetriesPerRequest: null,
  };
}
