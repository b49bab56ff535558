import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from "@aws-sdk/client-s3";
import type { S3TestConfig } from "@wf/test-services/s3";
import { inject } from "vitest";
import { S3Storage, type S3StorageOptions } from "../src/index.js";
import { clientConfig } from "./fixtures/client-config.js";

export { clientConfig };

/** The server the global setup found. */
export function s3Config(): S3TestConfig {
  return inject("s3");
}

/** A key prefix no other test run uses. */
export function testPrefix(label: string): string {
  return `wf-test-${label}-${randomBytes(4).toString("hex")}/`;
}

/** A store on the test server under `prefix`, with a client of its own. */
export function openStore(
  prefix: string,
  options: Partial<S3StorageOptions> = {},
  config = s3Config(),
): S3Storage {
  return new S3Storage({
    bucket: config.bucket,
    prefix,
    ...(options.client ? {} : { clientConfig: clientConfig(config) }),
    ...options,
  });
}

/** A raw client, to read and write the bucket behind the store's back. */
export function rawClient(config = s3Config()): S3Client {
  return new S3Client(clientConfig(config));
}

export async function listKeys(
  client: S3Client,
  bucket: string,
  prefix: string,
): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  for (let page = 0; page < 10_000; page++) {
    const listed = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    keys.push(...(listed.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : [])));
    token = listed.NextContinuationToken;
    if (!listed.IsTruncated) return keys;
  }
  throw new Error(`listing ${prefix} did not end`);
}

export async function readObject(client: S3Client, bucket: string, key: string): Promise<string> {
  const found = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await found.Body?.transformToString("utf-8")) ?? "";
}

/** Deletes every object under `prefix`: each test file leaves the bucket as it found it. */
export async function removePrefix(prefix: string, config = s3Config()): Promise<void> {
  const client = rawClient(config);
  try {
    const keys = await listKeys(client, config.bucket, prefix);
    for (let at = 0; at < keys.length; at += 1000) {
      await client.send(
        new DeleteObjectsCommand({
          Bucket: config.bucket,
          Delete: { Objects: keys.slice(at, at + 1000).map((Key) => ({ Key })), Quiet: true },
        }),
      );
    }
  } finally {
    client.destroy();
  }
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a fixture script (plain JS on the built package) in a child Node process. */
export function runFixture(script: string, args: string[]): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [fileURLToPath(new URL(`./fixtures/${script}`, import.meta.url)), ...args],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
