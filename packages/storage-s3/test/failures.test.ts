// Failures are bounded and coded: an unreachable or silent endpoint gives STORAGE_UNAVAILABLE within the store's timeout, a server that comes back is used again, a store that can never work gives STORAGE_MISCONFIGURED, handed clients survive close(), and a prefix cannot reach another one.
import { createServer, type Server, type Socket } from "node:net";
import { ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { sampleRun, sampleStep } from "@wf/storage-conformance";
import { freePort } from "@wf/test-services";
import { startS3 } from "@wf/test-services/s3";
import { afterAll, describe, expect, it } from "vitest";
import { S3Storage } from "../src/index.js";
import {
  clientConfig,
  listKeys,
  openStore,
  rawClient,
  removePrefix,
  s3Config,
  testPrefix,
} from "./helpers.js";

const prefix = testPrefix("failures");
afterAll(() => removePrefix(prefix));

/** A TCP server that accepts connections and never answers. */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** How long `call` takes to fail, and with what. */
async function timedFailure(call: () => Promise<unknown>) {
  const started = performance.now();
  const error = await call().then(
    () => null,
    (failure: unknown) => failure as Error & { code?: string },
  );
  return { error, ms: performance.now() - started };
}

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

  it("a server that accepts connections but never answers fails each call within the store's timeout, SDK retries included", async () => {
    const silent = await silentServer();
    const config = { ...clientConfig(s3Config()), endpoint: `http://127.0.0.1:${silent.port}` };
    // The client's own bounds would allow 3 attempts of 30 s each: 90 s a call.
    const handed = new S3Client({
      ...config,
      maxAttempts: 3,
      requestHandler: { requestTimeout: 30_000, throwOnRequestTimeout: true },
    });
    const stores = [
      new S3Storage({ bucket: "wf", clientConfig: config, timeout: 2_000 }),
      new S3Storage({ bucket: "wf", client: handed, timeout: 2_000 }),
    ];
    try {
      for (const store of stores) {
        for (const call of [
          () => store.getRun("wf", "r"),
          () => store.appendStep(sampleStep("wf", "r", 1)),
          () => store.listRuns("wf"),
        ]) {
          const { error, ms } = await timedFailure(call);
          expect(error).toMatchObject({ code: "STORAGE_UNAVAILABLE" });
          expect(error?.message).toContain("2000 ms");
          // Generous: the point is 2 s and not 90 s, not a precise deadline.
          expect(ms).toBeLessThan(10_000);
        }
      }
    } finally {
      for (const store of stores) await store.close();
      handed.destroy();
      await silent.close();
    }
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

describe("a store that can never work", () => {
  const config = s3Config();

  it("a bucket that does not exist is STORAGE_MISCONFIGURED, with the SDK's error as cause, on reads, appends and listings", async () => {
    const store = openStore(prefix, { bucket: "wf-no-such-bucket" });
    for (const call of [
      () => store.getRun("wf", "r"),
      () => store.appendStep(sampleStep("wf", "r", 1)),
      () => store.createRun(sampleRun("wf", "r"), sampleStep("wf", "r", 0)),
      () => store.listRuns("wf"),
      () => store.listWorkflows(),
    ]) {
      const { error } = await timedFailure(call);
      expect(error).toMatchObject({ code: "STORAGE_MISCONFIGURED" });
      expect(error?.message).toContain("wf-no-such-bucket");
      expect(error?.message).toContain("create the bucket");
      expect(error).toMatchObject({ cause: { name: "NoSuchBucket" } });
    }
    await store.close();
  });

  it("credentials the server does not know are STORAGE_MISCONFIGURED, saying to check them", async () => {
    const store = new S3Storage({
      bucket: config.bucket,
      prefix,
      clientConfig: {
        ...clientConfig(config),
        credentials: { accessKeyId: "WF-UNKNOWN-KEY", secretAccessKey: "x" },
      },
    });
    const { error } = await timedFailure(() => store.getRun("wf", "r"));
    expect(error).toMatchObject({ code: "STORAGE_MISCONFIGURED" });
    expect(error?.message).toContain("access key id");
    expect(error).toMatchObject({ cause: { $metadata: { httpStatusCode: 403 } } });
    await store.close();
  });

  it("a missing or invalid region is STORAGE_MISCONFIGURED, saying to set it", async () => {
    const saved = {
      region: process.env.AWS_REGION,
      fallback: process.env.AWS_DEFAULT_REGION,
      file: process.env.AWS_CONFIG_FILE,
    };
    // Nothing in the environment or a config file may supply a region.
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    process.env.AWS_CONFIG_FILE = "/nonexistent/wf-test-aws-config";
    try {
      const { region: _ignored, ...withoutRegion } = clientConfig(config);
      for (const clientConfigWithBadRegion of [
        withoutRegion,
        { ...withoutRegion, region: "not a region!" },
      ]) {
        const store = new S3Storage({
          bucket: config.bucket,
          prefix,
          clientConfig: clientConfigWithBadRegion,
        });
        const { error } = await timedFailure(() => store.getRun("wf", "r"));
        expect(error).toMatchObject({ code: "STORAGE_MISCONFIGURED" });
        expect(error?.message).toContain("clientConfig.region");
        expect(error?.cause).toBeInstanceOf(Error);
        await store.close();
      }
    } finally {
      for (const [name, value] of [
        ["AWS_REGION", saved.region],
        ["AWS_DEFAULT_REGION", saved.fallback],
        ["AWS_CONFIG_FILE", saved.file],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
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

  it("a prefix with an empty, '.' or '..' segment, or a leading '/', is refused when the store is made, naming it", () => {
    const client = rawClient();
    for (const bad of [
      "tenantA/../tenantB/",
      "./",
      ".",
      "..",
      "a/./b",
      "a/..",
      "a//b/",
      "/a/",
      "//",
    ]) {
      expect(() => new S3Storage({ bucket: "b", client, prefix: bad }), bad).toThrow(
        expect.objectContaining({
          name: "TypeError",
          message: expect.stringContaining(JSON.stringify(bad)),
        }),
      );
    }
    for (const good of ["", "wf", "wf/", "tenants/a/wf/", "a.b/..c/c../"]) {
      expect(() => new S3Storage({ bucket: "b", client, prefix: good }), good).not.toThrow();
    }
    client.destroy();
  });

  it("a prefix without a trailing '/' gets one: the store's keys live under it and nowhere else", async () => {
    const base = testPrefix("prefixed");
    const store = openStore(`${base}tenant-a`);
    await store.createRun(sampleRun("wf", "r"), sampleStep("wf", "r", 0));
    const raw = rawClient();
    const keys = await listKeys(raw, s3Config().bucket, base);
    raw.destroy();
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key.startsWith(`${base}tenant-a/v1/`)).toBe(true);
    await store.close();
    await removePrefix(base);
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
