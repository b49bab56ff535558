// Failures are bounded and coded: an unreachable or silent endpoint gives STORAGE_UNAVAILABLE, a server that comes back is used again, handed clients survive close().
import { createServer, type Socket } from "node:net";
import { ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { sampleRun, sampleStep } from "@wf/storage-conformance";
import { freePort } from "@wf/test-services";
import { startS3 } from "@wf/test-services/s3";
import { afterAll, describe, expect, it } from "vitest";
import { S3Storage } from "../src/index.js";
import {
  clientConfig,
  openStore,
  rawClient,
  removePrefix,
  s3Config,
  testPrefix,
} from "./helpers.js";

const prefix = testPrefix("failures");
afterAll(() => removePrefix(prefix));

describe("failures", () => {
  it("an endpoint nothing listens on gives STORAGE_UNAVAILABLE", async () => {
    const port = await freePort();
    const store = new S3Storage({
      bucket: "wf",
      clientConfig: { ...clientConfig(s3Config()), endpoint: `http://127.0.0.1:${port}` },
    });
    for (const call of [
      () => store.getRun("wf", "r"),
      () => store.appendStep(sampleStep("wf", "r", 1)),
      () => store.listRuns("wf"),
    ]) {
      await expect(call()).rejects.toMatchObject({ code: "STORAGE_UNAVAILABLE" });
    }
    await store.close();
  });

  it("a server that accepts connections but never answers gives STORAGE_UNAVAILABLE, not a hang", async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as { port: number };
    const store = new S3Storage({
      bucket: "wf",
      clientConfig: {
        ...clientConfig(s3Config()),
        endpoint: `http://127.0.0.1:${port}`,
        maxAttempts: 2,
        requestHandler: {
          connectionTimeout: 500,
          requestTimeout: 500,
          throwOnRequestTimeout: true,
        },
      },
    });
    await expect(store.getRun("wf", "r")).rejects.toMatchObject({ code: "STORAGE_UNAVAILABLE" });
    await store.close();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it("a server that goes away gives STORAGE_UNAVAILABLE, and is used again when it comes back", async () => {
    const server = await startS3();
    try {
      const store = new S3Storage({
        bucket: server.config.bucket,
        clientConfig: clientConfig(server.config),
      });
      await store.createRun(sampleRun("wf", "r"), sampleStep("wf", "r", 0));
      await server.kill();
      await expect(store.appendStep(sampleStep("wf", "r", 1))).rejects.toMatchObject({
        code: "STORAGE_UNAVAILABLE",
      });
      await server.restart();
      await store.appendStep(sampleStep("wf", "r", 1));
      expect(await store.getRun("wf", "r")).toMatchObject({ headStep: 1 });
      await store.close();
    } finally {
      await server.stop();
    }
  });
});

describe("clients and options", () => {
  it("close() leaves a client the store was handed working, and every method then fails with STORAGE_CLOSED", async () => {
    const client = rawClient();
    const store = openStore(prefix, { client });
    await store.close();
    await store.close();
    const listed = await client.send(
      new ListObjectsV2Command({ Bucket: s3Config().bucket, MaxKeys: 1 }),
    );
    expect(listed.$metadata.httpStatusCode).toBe(200);
    await expect(store.getRun("wf", "r")).rejects.toMatchObject({ code: "STORAGE_CLOSED" });
    client.destroy();
  });

  it("a store needs a bucket, and either a client or a client configuration, not both", () => {
    const client = rawClient();
    expect(() => new S3Storage({} as never)).toThrow(TypeError);
    expect(() => new S3Storage({ bucket: "b", client, clientConfig: {} })).toThrow(TypeError);
    expect(() => new S3Storage({ bucket: "b", client, prefix: "/abs" })).toThrow(TypeError);
    client.destroy();
  });

  it("the test server answers conditional writes as S3 does (If-None-Match, If-Match)", async () => {
    const client = rawClient();
    const Bucket = s3Config().bucket;
    const Key = `${prefix}conditional`;
    const first = await client.send(
      new PutObjectCommand({ Bucket, Key, Body: "1", IfNoneMatch: "*" }),
    );
    await expect(
      client.send(new PutObjectCommand({ Bucket, Key, Body: "2", IfNoneMatch: "*" })),
    ).rejects.toMatchObject({ name: "PreconditionFailed", $metadata: { httpStatusCode: 412 } });
    await client.send(new PutObjectCommand({ Bucket, Key, Body: "3", IfMatch: first.ETag }));
    await expect(
      client.send(new PutObjectCommand({ Bucket, Key, Body: "4", IfMatch: first.ETag })),
    ).rejects.toMatchObject({ name: "PreconditionFailed", $metadata: { httpStatusCode: 412 } });
    await expect(
      client.send(
        new PutObjectCommand({ Bucket, Key: `${Key}-absent`, Body: "5", IfMatch: first.ETag }),
      ),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    client.destroy();
  });
});
