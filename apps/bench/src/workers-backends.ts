import { randomBytes } from "node:crypto";
import type { WorkflowStorage } from "@wf/core";
import { BullMQQueue } from "@wf/queue-bullmq";
import { PgBossQueue } from "@wf/queue-pg-boss";
import { PostgresStorage } from "@wf/storage-postgres";
import { RedisStorage } from "@wf/storage-redis";
import { findPostgres } from "@wf/test-services/postgres";
import { deleteKeys, findRedis } from "@wf/test-services/redis";
import { jobKey, type RunQueue } from "@wf/worker";
import { Redis } from "ioredis";
import pg from "pg";
import type { QueueKind } from "./workers-args.js";

export const BACKEND_LABELS: Record<QueueKind, string> = {
  bullmq: "BullMQ + RedisStorage",
  "pg-boss": "pg-boss + PostgresStorage",
};

/**
 * How soon a crashed worker's jobs come back, in the bindings' own terms.
 * The bindings default to 30 s; the bench uses seconds so it finishes.
 */
export interface LeaseSettings {
  /** BullMQ `lockDurationMs` / pg-boss `expireInSeconds`. */
  leaseSeconds: number;
  /** BullMQ `stalledIntervalMs` / pg-boss `maintenanceIntervalSeconds`. */
  checkSeconds: number;
}

/** How often an idle pg-boss slot looks for a job (the binding's default is 500 ms). */
const PG_BOSS_POLL_MS = 50;

/**
 * Everything a worker process needs to open the same queue and store as the
 * bench: plain JSON, handed over on its command line.
 */
export type BackendConfig =
  | { kind: "bullmq"; redisUrl: string; namespace: string; lease: LeaseSettings }
  | { kind: "pg-boss"; postgresUrl: string; schema: string; lease: LeaseSettings };

/** The queue `queueName` of the backend, with the lease settings. */
export function openQueue(config: BackendConfig, queueName: string): RunQueue {
  if (config.kind === "bullmq") {
    return new BullMQQueue({
      connection: redisConnection(config.redisUrl),
      prefix: config.namespace,
      queueName,
      lockDurationMs: config.lease.leaseSeconds * 1000,
      stalledIntervalMs: config.lease.checkSeconds * 1000,
    });
  }
  return new PgBossQueue({
    connectionString: config.postgresUrl,
    schema: `${config.schema}_boss`,
    queueName,
    expireInSeconds: config.lease.leaseSeconds,
    maintenanceIntervalSeconds: config.lease.checkSeconds,
    pollIntervalMs: PG_BOSS_POLL_MS,
  });
}

/**
 * The backend's store. `connections` sizes PostgreSQL's pool (one per run
 * in flight, so the pool is never what runs wait for); Redis has one client
 * whatever the count, which pipelines every call.
 */
export function openStorage(config: BackendConfig, connections: number): WorkflowStorage {
  if (config.kind === "bullmq") {
    return new RedisStorage({
      url: config.redisUrl,
      prefix: `${config.namespace}:store:`,
      // The bench measures the server as it is configured; its durability is not the question here.
      logger: { warn() {} },
    });
  }
  return new PostgresStorage({
    connectionString: config.postgresUrl,
    schema: `${config.schema}_store`,
    maxConnections: connections,
  });
}

/**
 * Opens the queue's tables and schema (pg-boss creates them on first use) by
 * reading a job that does not exist, so the worker processes started next do
 * not all race to create them.
 */
export async function readyQueue(queue: RunQueue): Promise<void> {
  await queue.jobState(jobKey({ workflowId: "bench", runId: "none", atStep: 0 }));
}

/** The lease settings in the bindings' own option names, for the tables' notes. */
export function describeLease(kind: QueueKind, lease: LeaseSettings): string {
  return kind === "bullmq"
    ? `BullMQ lockDurationMs ${lease.leaseSeconds * 1000}, stalledIntervalMs ${lease.checkSeconds * 1000} (the lock is renewed every lockDuration/2 while the worker lives)`
    : `pg-boss expireInSeconds ${lease.leaseSeconds}, maintenanceIntervalSeconds ${lease.checkSeconds}, retryDelay 1 s, pollIntervalMs ${PG_BOSS_POLL_MS} (no renewal: a job expires expireInSeconds after it started)`;
}

/** A backend on a fresh namespace, and how to remove it. */
export interface PreparedBackend {
  config: BackendConfig;
  /** Removes every key or schema under the namespace; call once no process uses it. */
  cleanup(): Promise<void>;
}

/** Finds the server as the tests do and picks a namespace no one else uses. */
export async function prepareBackend(
  kind: QueueKind,
  lease: LeaseSettings,
): Promise<PreparedBackend> {
  const id = randomBytes(4).toString("hex");
  if (kind === "bullmq") {
    const server = await findRedis();
    const namespace = `wf-bench-workers-${id}`;
    return {
      config: { kind, redisUrl: server.url, namespace, lease },
      async cleanup() {
        const client = new Redis(server.url);
        try {
          // The queue's keys and the store's both live under the namespace, which has no glob characters.
          await deleteKeys(client, `${namespace}:`);
        } finally {
          client.disconnect();
          await server.stop();
        }
      },
    };
  }
  const server = await findPostgres();
  const schema = `wf_bench_workers_${id}`;
  return {
    config: { kind, postgresUrl: server.url, schema, lease },
    async cleanup() {
      const client = new pg.Client({ connectionString: server.url });
      try {
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS "${schema}_boss" CASCADE`);
        await client.query(`DROP SCHEMA IF EXISTS "${schema}_store" CASCADE`);
      } finally {
        await client.end().catch(() => {});
        await server.stop();
      }
    },
  };
}

/** ioredis options for a `redis://` URL, as BullMQ takes them. */
function redisConnection(url: string): {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
} {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    db: Number(parsed.pathname.slice(1) || 0),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
  };
}
