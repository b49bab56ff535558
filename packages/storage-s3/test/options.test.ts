import { runOnce, typeErrorOf } from "@wf/storage-conformance/records";
import { afterAll, describe, expect, it } from "vitest";
import { S3Storage } from "../src/index.js";
import { listKeys, openStore, rawClient, removePrefix, s3Config, testPrefix } from "./helpers.js";

/** The test server's credentials, which never go in the URL. */
function credentials() {
  const { accessKeyId, secretAccessKey } = s3Config();
  return accessKeyId && secretAccessKey
    ? { clientConfig: { credentials: { accessKeyId, secretAccessKey } } }
    : {};
}

const prefix = testPrefix("from-url");
afterAll(() => removePrefix(prefix));

describe("S3Storage options", () => {
  it("refuses an unknown option, naming it", () => {
    expect(typeErrorOf(() => new S3Storage({ bucket: "b", prefx: "x/" } as never))).toBe(
      'S3Storage does not know the option "prefx"; it takes bucket, prefix, client, clientConfig, timeout, concurrency.',
    );
  });

  it("refuses a URL string where the options object belongs", () => {
    expect(typeErrorOf(() => new S3Storage("s3://bucket/wf" as never))).toBe(
      'S3Storage takes an options object, not a string ("s3://bucket/wf"): use S3Storage.fromUrl(url).',
    );
  });
});

describe("S3Storage.fromUrl", () => {
  it("journals a run in the bucket and under the prefix of the URL, on the endpoint and region it names", async () => {
    const config = s3Config();
    const url = `s3://${config.bucket}/${prefix.slice(0, -1)}?region=${config.region}&endpoint=${encodeURIComponent(config.endpoint)}`;
    const storage = S3Storage.fromUrl(url, credentials());
    const runId = await runOnce(storage);
    await storage.close();

    const plain = openStore(prefix);
    try {
      expect((await plain.getLatestStep("from-url", runId)).shared).toEqual({ count: 1 });
    } finally {
      await plain.close();
    }
    const raw = rawClient();
    try {
      const keys = await listKeys(raw, config.bucket, prefix);
      expect(keys.some((key) => key.includes(runId))).toBe(true);
    } finally {
      raw.destroy();
    }
  });

  it("refuses what the URL already sets, credentials in the URL, and unknown parameters", () => {
    const url = "s3://bucket/wf?region=eu-west-1";
    expect(typeErrorOf(() => S3Storage.fromUrl(url, { prefix: "other/" }))).toMatch(
      /already sets `prefix`; give it in the URL or in the options, not both/,
    );
    expect(
      typeErrorOf(() => S3Storage.fromUrl(url, { clientConfig: { region: "us-east-1" } })),
    ).toMatch(/already sets `clientConfig.region`/);
    const withSecret = typeErrorOf(() => S3Storage.fromUrl("s3://KEY:hunter2@bucket/wf"));
    expect(withSecret).toMatch(/has credentials or a port/);
    expect(withSecret).not.toContain("hunter2");
    expect(typeErrorOf(() => S3Storage.fromUrl("s3://bucket/wf?regoin=x"))).toMatch(
      /unknown parameter "regoin"; it takes region, endpoint, forcePathStyle/,
    );
    expect(typeErrorOf(() => S3Storage.fromUrl("http://bucket/wf"))).toMatch(
      /is not an S3 URL; expected s3:\/\/bucket\/prefix/,
    );
  });
});
