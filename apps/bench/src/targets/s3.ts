import { randomBytes } from "node:crypto";
import {
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { S3Storage } from "@wf/storage-s3";
import { findS3 } from "@wf/test-services/s3";
import type { BenchTarget } from "../target.js";

/**
 * S3Storage on the S3-protocol test server (WF_TEST_S3_ENDPOINT, or a private
 * s3rver behind its conditional-write proxy), under a fresh key prefix. The
 * baseline is one create-only PutObject (`If-None-Match: *`) of the same
 * bytes to the same server through the same client: what an append costs at
 * the very least, and what the store sends on most appends (the step; the run
 * document follows every 16th step and on a status change). Create-only
 * because that is the least a journal append needs,
 * and because the test proxy checks conditional writes with an extra HEAD
 * that a plain PUT would not pay (real S3 charges no time for the condition).
 * `requests()` is the store's count of HTTP requests.
 */
export const target: BenchTarget = {
  name: "s3",
  async open() {
    const server = await findS3();
    const { config } = server;
    const client = new S3Client({
      endpoint: config.endpoint,
      region: config.region,
      forcePathStyle: config.forcePathStyle,
      ...(config.accessKeyId && config.secretAccessKey
        ? {
            credentials: {
              accessKeyId: config.accessKeyId,
              secretAccessKey: config.secretAccessKey,
            },
          }
        : {}),
    });
    const prefix = `wf-bench-${randomBytes(4).toString("hex")}/`;
    const storage = new S3Storage({ bucket: config.bucket, prefix, client });
    const baselineKeys = new Set<string>();
    return {
      storage,
      async baselineWrite(bytes, i) {
        const key = `${prefix}baseline/${i}.json`;
        baselineKeys.add(key);
        await client.send(
          new PutObjectCommand({ Bucket: config.bucket, Key: key, Body: bytes, IfNoneMatch: "*" }),
        );
      },
      async bytesStored() {
        // The objects' sizes under the store's prefix (the baseline's objects excluded).
        let total = 0;
        let token: string | undefined;
        do {
          const page = await client.send(
            new ListObjectsV2Command({
              Bucket: config.bucket,
              Prefix: prefix,
              ContinuationToken: token,
            }),
          );
          for (const object of page.Contents ?? []) {
            if (!object.Key?.startsWith(`${prefix}baseline/`)) total += object.Size ?? 0;
          }
          token = page.NextContinuationToken;
        } while (token);
        return total;
      },
      requests: () => storage.requestsSent,
      async close() {
        try {
          // Everything the run wrote, through the store: each run of each workflow under the prefix.
          const { items: workflows } = await storage.listWorkflows({ limit: 1000 });
          for (const workflowId of workflows) {
            for (let pages = 0; pages < 10_000; pages++) {
              const runs = await storage.listRuns(workflowId, { limit: 100 });
              if (runs.items.length === 0) break;
              for (const run of runs.items) await storage.deleteRun(workflowId, run.runId);
            }
          }
          const keys = [...baselineKeys];
          for (let at = 0; at < keys.length; at += 1000) {
            await client.send(
              new DeleteObjectsCommand({
                Bucket: config.bucket,
                Delete: { Objects: keys.slice(at, at + 1000).map((Key) => ({ Key })), Quiet: true },
              }),
            );
          }
        } finally {
          await storage.close();
          client.destroy();
          await server.stop();
        }
      },
    };
  },
};
