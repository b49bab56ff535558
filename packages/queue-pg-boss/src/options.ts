import type PgBoss from "pg-boss";

export interface PgBossQueueOptions {
  /** PostgreSQL to connect to. Give this or `boss`. */
  connectionString?: string;
  /**
   * A pg-boss instance you already started. Used as it is and never stopped
   * by this binding. Give this or `connectionString`.
   */
  boss?: PgBoss;
  /** Schema pg-boss creates and keeps its tables in (with `connectionString`). Default `pgboss`. */
  schema?: string;
  /** Name of the pg-boss queue; its dead-letter queue is this name plus `-dead`. Default `wf-runs`. */
  queueName?: string;
  /**
   * A job's lease, in seconds: a job still active this long after it
   * started (its worker crashed, or ran too many steps) is handed back.
   * Keep it above the time `stepsPerJob` steps take. Default 30.
   */
  expireInSeconds?: number;
  /** How often pg-boss hands back expired jobs (with `connectionString`). Default 30 (pg-boss: at least 1). */
  maintenanceIntervalSeconds?: number;
  /** How long an idle consumer waits before looking for jobs again. Default 500 ms. */
  pollIntervalMs?: number;
}
