import { randomBytes } from "node:crypto";
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { findS3, type S3TestConfig } from "@wf/test-services/s3";
import { openStore } from "../stores.js";
import type { StoreTarget } from "../target.js";

/** A client of the test server, for damage and clean-up behind the store's back. */
export function testClient(config: S3TestConfig): S3Client {
  return new S3Client({
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
}

/** Deletes every object under `prefix`. */
export async function deletePrefix(client: S3Client, bucket: string, prefix: string) {
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    const keys = (page.Contents ?? []).flatMap((object) => (object.Key ? [object.Key] : []));
    if (keys.length > 0) {
      await client.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
        }),
      );
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/**
 * S3Storage on the S3-protocol test server (WF_TEST_S3_ENDPOINT, or a private
 * s3rver behind its conditional-write proxy) under a key prefix of its own,
 * deleted afterwards. Damage replaces a step object (keeping the user
 * metadata the store probes heads with) or the `run` inside the run document.
 */
export async function provision(label: string): Promise<StoreTarget> {
  const server = await findS3();
  const { config } = server;
  const prefix = `wf-torture-${label}-${randomBytes(4).toString("hex")}/`;
  const spec = { kind: "s3" as const, config, prefix };
  const client = testClient(config);
  const Bucket = config.bucket;
  const runDir = (workflowId: string, runId: string) => {
    if (!/^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/.test(workflowId + runId)) {
      throw new TypeError("damage needs ids the store keeps verbatim in keys");
    }
    return `${prefix}v1/runs/${workflowId}/${runId}/`;
  };
  const readText = async (Key: string) => {
    const object = await client.send(new GetObjectCommand({ Bucket, Key }));
    return (await object.Body?.transformToString("utf8")) ?? "";
  };
  return {
    kind: "s3",
    where: `${server.source} server ${config.endpoint}, bucket ${Bucket}, prefix ${prefix}`,
    spec,
    open: () => openStore(spec),
    async damage({ workflowId, runId, record }, text) {
      const dir = runDir(workflowId, runId);
      const documentKey = `${dir}run.json`;
      const document = JSON.parse(await readText(documentKey)) as {
        layout: number;
        incarnation: string;
      };
      if (record === "metadata") {
        if (text === null) throw new TypeError("run metadata cannot be removed on its own here");
        // The metadata's text in place of the document's `run`, the bookkeeping kept around it.
        const Body = `{"layout":${document.layout},"incarnation":${JSON.stringify(document.incarnation)},"run":${text}}`;
        await client.send(
          new PutObjectCommand({ Bucket, Key: documentKey, Body: Buffer.from(Body) }),
        );
        return;
      }
      const Key = `${dir}${document.incarnation}/${String(record).padStart(12, "0")}.json`;
      if (text === null) {
        await client.send(new DeleteObjectCommand({ Bucket, Key }));
        return;
      }
      const { Metadata } = await client.send(new HeadObjectCommand({ Bucket, Key }));
      await client.send(new PutObjectCommand({ Bucket, Key, Body: Buffer.from(text), Metadata }));
    },
    async dispose() {
      try {
        await deletePrefix(client, Bucket, prefix);
      } finally {
        client.destroy();
        await server.stop();
      }
    },
  };
}
