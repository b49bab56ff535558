// openStore: each scheme opens its adapter, whose store journals a run where
// the URL says (read back through a store made with plain options); unknown
// schemes and missing adapter packages fail saying what to do; no message
// shows a URL's password.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Node, WorkflowEngine, type WorkflowStorage } from "@wf/core";
import { FileSystemStorage } from "@wf/storage-fs";
import { PostgresStorage } from "@wf/storage-postgres";
import { RedisStorage } from "@wf/storage-redis";
import { S3Storage } from "@wf/storage-s3";
import { afterAll, describe, expect, inject, it } from "vitest";
import { ADAPTERS, type Adapter } from "../src/adapters.js";
import { openStore, SUPPORTED_SCHEMES } from "../src/index.js";
import { openStoreWith } from "../src/open-store.js";

class Count extends Node<{ count: number }> {
  override cleanup(shared: { count: number }) {
    shared.count += 1;
  }
}

const quiet = { warn() {} };

/**
 * Runs a one-node workflow on the store `url` opens, then reads it back
 * through `plain` (a store made with plain options on the place the URL
 * named), deletes it and closes both.
 */
async function roundTrip(
  url: string,
  plain: WorkflowStorage,
  options?: object,
): Promise<WorkflowStorage> {
  const storage = await openStore(url, options);
  try {
    const engine = await WorkflowEngine.create({
      workflowId: "store-url",
      nodes: [new Count({ id: "count" })],
      initialState: { count: 0 },
      storage,
    });
    await engine.run();
    expect((await plain.getRun("store-url", engine.runId)).status).toBe("completed");
    expect((await plain.getLatestStep("store-url", engine.runId)).shared).toEqual({ count: 1 });
    await plain.deleteRun("store-url", engine.runId);
    return storage;
  } finally {
    await storage.close();
    await plain.close();
  }
}

describe("openStore opens the adapter a URL's scheme names", () => {
  const label = inject("runLabel");
  let dir: string | undefined;
  afterAll(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));

  it("file: and a plain path open FileSystemStorage on that directory", async () => {
    dir = await mkdtemp(join(tmpdir(), "wf-store-url-"));
    const viaUrl = await roundTrip(`file:${dir}`, new FileSystemStorage({ dir }));
    expect(viaUrl).toBeInstanceOf(FileSystemStorage);
    const viaPath = await roundTrip(
      join(dir, "bare"),
      new FileSystemStorage({ dir: join(dir, "bare") }),
    );
    expect((viaPath as FileSystemStorage).dir).toBe(join(dir, "bare"));
  });

  it("postgres: and postgresql: open PostgresStorage in the schema of ?schema=", async () => {
    const schema = `${label}_pg`;
    for (const scheme of ["postgres:", "postgresql:"]) {
      const url = new URL(inject("postgresUrl"));
      url.searchParams.set("schema", schema);
      const opened = await roundTrip(
        url.href.replace(/^postgres(?:ql)?:/, scheme),
        new PostgresStorage({ connectionString: inject("postgresUrl"), schema }),
      );
      expect(opened).toBeInstanceOf(PostgresStorage);
      expect((opened as PostgresStorage).schema).toBe(schema);
    }
  });

  it("redis: opens RedisStorage on the db and prefix of the URL, passing the options on", async () => {
    const prefix = `${label}:`;
    const url = new URL(inject("redisUrl"));
    url.pathname = "/2";
    const plainUrl = url.href;
    url.searchParams.set("prefix", prefix);
    const opened = await roundTrip(
      url.href,
      new RedisStorage({ url: plainUrl, prefix, logger: quiet }),
      { logger: quiet, ttlSeconds: 600 },
    );
    expect(opened).toBeInstanceOf(RedisStorage);
  });

  it("rediss: opens RedisStorage (TLS) without connecting", async () => {
    const store = await openStore("rediss://:secret@127.0.0.1:6380/1?prefix=x:", { logger: quiet });
    expect(store).toBeInstanceOf(RedisStorage);
    await store.close();
  });

  it("s3: opens S3Storage on the bucket and prefix of the URL, on the endpoint it names", async () => {
    const s3 = inject("s3");
    const prefix = `${label}/s3/`;
    const credentials =
      s3.accessKeyId && s3.secretAccessKey
        ? { credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } }
        : {};
    const url = `s3://${s3.bucket}/${prefix}?region=${s3.region}&endpoint=${encodeURIComponent(s3.endpoint)}&forcePathStyle=${s3.forcePathStyle}`;
    const plain = new S3Storage({
      bucket: s3.bucket,
      prefix,
      clientConfig: {
        endpoint: s3.endpoint,
        region: s3.region,
        forcePathStyle: s3.forcePathStyle,
        ...credentials,
      },
    });
    const opened = await roundTrip(url, plain, { clientConfig: credentials });
    expect(opened).toBeInstanceOf(S3Storage);
  });
});

describe("openStore refuses what it cannot open", () => {
  it("an unknown scheme, listing the supported ones and masking the password", async () => {
    const error = await openStore("mysql://root:hunter2@127.0.0.1/db").catch((thrown) => thrown);
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe(
      'openStore: "mysql://root:***@127.0.0.1/db" has the unknown scheme "mysql:"; supported: file:, postgres:, postgresql:, redis:, rediss:, s3: (or a plain path for the file system).',
    );
    expect(SUPPORTED_SCHEMES).toEqual([
      "file:",
      "postgres:",
      "postgresql:",
      "redis:",
      "rediss:",
      "s3:",
    ]);
  });

  it("what the adapter refuses, without the password", async () => {
    const error = await openStore("redis://:hunter2@127.0.0.1:6379/x").catch((thrown) => thrown);
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(/not a non-negative integer/);
    expect(error.message).not.toContain("hunter2");
  });

  it("a missing adapter package: STORAGE_MISCONFIGURED saying what to install", async () => {
    const missing = "@wf/storage-not-installed";
    const adapters: Adapter[] = [
      ...ADAPTERS.filter((adapter) => !adapter.schemes.includes("postgres")),
      // A real import of a package that is not there, as Node reports it.
      {
        schemes: ["postgres"],
        packageName: missing,
        load: () => import(/* @vite-ignore */ missing),
      },
    ];
    const error = await openStoreWith(adapters, "postgres://u:hunter2@127.0.0.1/db").catch(
      (thrown) => thrown,
    );
    expect(error.code).toBe("STORAGE_MISCONFIGURED");
    expect(error.message).toBe(
      `openStore is misconfigured: postgres: URLs need the package ${missing}, which is not installed: npm install ${missing}.`,
    );
    expect(error.cause.code).toBe("ERR_MODULE_NOT_FOUND");
  });

  it("a missing dependency of an installed adapter is the adapter's own error, unchanged", async () => {
    const dependency = "@wf/driver-not-installed";
    const adapters: Adapter[] = [
      {
        schemes: ["s3"],
        packageName: "@wf/storage-s3",
        load: () => import(/* @vite-ignore */ dependency),
      },
    ];
    const error = await openStoreWith(adapters, "s3://bucket").catch((thrown) => thrown);
    expect(error.code).toBe("ERR_MODULE_NOT_FOUND");
    expect(error.message).toContain(dependency);
  });
});
