/**
 * The servers the tests run the service against, each under a namespace of
 * the test's own, and a store on the same journal for checking what the
 * workers wrote.
 */
import type { StepRecord, WorkflowStorage } from "@wf/core";
import { PostgresStorage } from "@wf/storage-postgres";
import { RedisStorage } from "@wf/storage-redis";
import { findPostgres } from "@wf/test-services/postgres";
import { findRedis } from "@wf/test-services/redis";
import { Redis } from "ioredis";
import pg from "pg";

export const WORKFLOW = "approval";

export interface Target {
  /** Flags that point the service at this server. */
  args: string[];
  /** A store on the same journal as the service, for the checks. */
  storage: WorkflowStorage;
  /** Removes everything the namespace left on the server. */
  drop(): Promise<void>;
}

export const targets: Record<"redis" | "postgres", (namespace: string) => Promise<Target>> = {
  async redis(namespace) {
    const { url } = await findRedis();
    return {
      args: ["--backend", "redis", "--redis-url", url],
      storage: new RedisStorage({ url, prefix: `${namespace}:`, logger: { warn() {} } }),
      async drop() {
        const redis = new Redis(url);
        try {
          for (const pattern of [`${namespace}:*`, `wf-bull:${namespace}-runs:*`]) {
            let cursor = "0";
            do {
              const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
              cursor = next;
              if (keys.length > 0) await redis.del(...keys);
            } while (cursor !== "0");
          }
        } finally {
          redis.disconnect();
        }
      },
    };
  },
  async postgres(namespace) {
    const { url } = await findPostgres();
    return {
      args: ["--backend", "postgres", "--postgres-url", url],
      storage: new PostgresStorage({ connectionString: url, schema: namespace }),
      async drop() {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          await client.query(`DROP SCHEMA IF EXISTS "${namespace}" CASCADE`);
          await client.query(`DROP SCHEMA IF EXISTS "${namespace}_pgboss" CASCADE`);
        } finally {
          await client.end();
        }
      },
    };
  },
};

export async function allSteps(storage: WorkflowStorage, runId: string): Promise<StepRecord[]> {
  const steps: StepRecord[] = [];
  let cursor: string | null = null;
  do {
    const page = await storage.listSteps(WORKFLOW, runId, { cursor });
    steps.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return steps;
}

/** The journal in short: one `node:status` per step; the creation step is `start`, a cancel `cancel`. */
export function trail(steps: readonly StepRecord[]): string[] {
  return steps.map(
    (step) => `${step.previousNodeId ?? (step.step === 0 ? "start" : "cancel")}:${step.status}`,
  );
}
