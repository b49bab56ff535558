// The vitest global setups of the packages whose tests use the real servers:
// finds (or starts) PostgreSQL, Redis and S3, makes sure the S3 bucket exists,
// provides where they are, and after the run drops the PostgreSQL schemas
// the run made and stops what it started.
import { randomBytes } from "node:crypto";
import { CreateBucketCommand, HeadBucketCommand, S3Client } from "@aws-sdk/client-s3";
import pg from "pg";
import type {} from "vitest";
import type { TestProject } from "vitest/node";
import { findPostgres } from "./postgres.js";
import { findRedis } from "./redis.js";
import { findS3, type S3TestConfig } from "./s3.js";

declare module "vitest" {
  export interface ProvidedContext {
    postgresUrl: string;
    redisUrl: string;
    s3: S3TestConfig;
    /** Unique to this run: every schema, key prefix and object prefix the tests make starts with it. */
    runLabel: string;
  }
}

async function ensureBucket(config: S3TestConfig): Promise<void> {
  const client = new S3Client({
    endpoint: config.endpoint,
    region: config.region,
    forcePathStyle: config.forcePathStyle,
    ...(config.accessKeyId && config.secretAccessKey
      ? {
          credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
        }
      : {}),
  });
  try {
    await client.send(new HeadBucketCommand({ Bucket: config.bucket }));
  } catch {
    await client.send(new CreateBucketCommand({ Bucket: config.bucket }));
  } finally {
    client.destroy();
  }
}

async function dropSchemas(postgresUrl: string, label: string): Promise<void> {
  const sql = new pg.Client({ connectionString: postgresUrl });
  try {
    await sql.connect();
    const { rows } = await sql.query<{ nspname: string }>(
      "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1",
      [`${label}%`],
    );
    for (const { nspname } of rows) await sql.query(`DROP SCHEMA "${nspname}" CASCADE`);
  } finally {
    await sql.end().catch(() => {});
  }
}

/** The run label: `prefix`, then random hex, so what a package's run leaves is recognisable. */
function newRunLabel(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString("hex")}`;
}

/**
 * The global setup of a package whose tests use PostgreSQL only: provides
 * `postgresUrl` and `runLabel`. `export default (project) => providePostgres(project, "wf_x")`.
 */
export async function providePostgres(
  project: TestProject,
  prefix: string,
): Promise<() => Promise<void>> {
  const postgres = await findPostgres();
  const runLabel = newRunLabel(prefix);
  project.provide("postgresUrl", postgres.url);
  project.provide("runLabel", runLabel);
  return async () => {
    await dropSchemas(postgres.url, runLabel);
    await postgres.stop();
  };
}

/**
 * The global setup of a package whose tests use all three servers: provides
 * `postgresUrl`, `redisUrl`, `s3` and `runLabel`.
 * `export default (project) => provideServers(project, "wf_cli")`.
 */
export async function provideServers(
  project: TestProject,
  prefix: string,
): Promise<() => Promise<void>> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const postgres = await findPostgres();
  const redis = await findRedis();
  const s3 = await findS3();
  await ensureBucket(s3.config);
  const runLabel = newRunLabel(prefix);
  project.provide("postgresUrl", postgres.url);
  project.provide("redisUrl", redis.url);
  project.provide("s3", s3.config);
  project.provide("runLabel", runLabel);
  return async () => {
    await dropSchemas(postgres.url, runLabel);
    await Promise.all([postgres.stop(), redis.stop(), s3.stop()]);
  };
}
