// Finds (or starts) the servers the round trips use, as each adapter's own
// tests do, makes sure the S3 bucket exists, and after the run drops the
// PostgreSQL schemas the run made.
import { randomBytes } from "node:crypto";
import { CreateBucketCommand, HeadBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { findPostgres } from "@wf/test-services/postgres";
import { findRedis } from "@wf/test-services/redis";
import { findS3, type S3TestConfig } from "@wf/test-services/s3";
import pg from "pg";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    postgresUrl: string;
    redisUrl: string;
    s3: S3TestConfig;
    /** Unique to this run: every schema, key prefix and object prefix the tests make starts with it. */
    runLabel: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const postgres = await findPostgres();
  const redis = await findRedis();
  const s3 = await findS3();
  const client = new S3Client({
    endpoint: s3.config.endpoint,
    region: s3.config.region,
    forcePathStyle: s3.config.forcePathStyle,
    ...(s3.config.accessKeyId && s3.config.secretAccessKey
      ? {
          credentials: {
            accessKeyId: s3.config.accessKeyId,
            secretAccessKey: s3.config.secretAccessKey,
          },
        }
      : {}),
  });
  try {
    await client.send(new HeadBucketCommand({ Bucket: s3.config.bucket }));
  } catch {
    await client.send(new CreateBucketCommand({ Bucket: s3.config.bucket }));
  } finally {
    client.destroy();
  }
  const runLabel = `wf_store_url_${randomBytes(4).toString("hex")}`;
  project.provide("postgresUrl", postgres.url);
  project.provide("redisUrl", redis.url);
  project.provide("s3", s3.config);
  project.provide("runLabel", runLabel);
  return async () => {
    const sql = new pg.Client({ connectionString: postgres.url });
    try {
      await sql.connect();
      const { rows } = await sql.query<{ nspname: string }>(
        "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1",
        [`${runLabel}%`],
      );
      for (const { nspname } of rows) await sql.query(`DROP SCHEMA "${nspname}" CASCADE`);
    } finally {
      await sql.end().catch(() => {});
    }
    await Promise.all([postgres.stop(), redis.stop(), s3.stop()]);
  };
}
