// The S3 test server's conditional-write proxy (@wf/test-services/s3), which
// every S3 test relies on for AWS's semantics: If-None-Match: * refuses an
// existing key, If-Match refuses another ETag or an absent key, writes that pass
// are stored, and the opt-in 409 injection refuses exactly as many conditional
// PUTs as asked, writing nothing, and never a plain one.
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { type PrivateS3, startS3 } from "@wf/test-services/s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientConfig, readObject } from "./helpers.js";

/** What a request failed with: the SDK's error name and HTTP status. */
async function refusal(promise: Promise<unknown>): Promise<{ name: string; status?: number }> {
  try {
    await promise;
  } catch (error) {
    const failed = error as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: failed.name, status: failed.$metadata?.httpStatusCode };
  }
  throw new Error("expected the request to be refused, but it succeeded");
}

describe("the S3 test server's conditional writes", () => {
  let server: PrivateS3;
  let client: S3Client;
  let bucket: string;
  const put = (
    Key: string,
    Body: string,
    conditions: { IfNoneMatch?: string; IfMatch?: string } = {},
  ) => client.send(new PutObjectCommand({ Bucket: bucket, Key, Body, ...conditions }));

  beforeAll(async () => {
    server = await startS3();
    bucket = server.config.bucket;
    // No SDK retries: each refusal must reach the test as the server gave it.
    client = new S3Client({ ...clientConfig(server.config), maxAttempts: 1 });
  });
  afterAll(async () => {
    client?.destroy();
    await server?.stop();
  });

  it("If-None-Match: * writes an absent key and refuses an existing one with 412, leaving it unchanged", async () => {
    await put("absent-first", "one", { IfNoneMatch: "*" });
    expect(await refusal(put("absent-first", "two", { IfNoneMatch: "*" }))).toEqual({
      name: "PreconditionFailed",
      status: 412,
    });
    expect(await readObject(client, bucket, "absent-first")).toBe("one");
  });

  it("If-Match with the current ETag writes; with another ETag it is 412; on an absent key 404", async () => {
    const { ETag } = await put("matched", "one");
    await put("matched", "two", { IfMatch: ETag });
    expect(await readObject(client, bucket, "matched")).toBe("two");
    expect(await refusal(put("matched", "three", { IfMatch: ETag }))).toEqual({
      name: "PreconditionFailed",
      status: 412,
    });
    expect(await refusal(put("matched", "three", { IfMatch: '"0123456789abcdef"' }))).toEqual({
      name: "PreconditionFailed",
      status: 412,
    });
    expect(await readObject(client, bucket, "matched")).toBe("two");
    expect((await refusal(put("never-written", "x", { IfMatch: ETag }))).status).toBe(404);
  });

  it("injected 409 ConditionalRequestConflict refuses exactly the next n conditional PUTs, writing nothing, and no plain PUT", async () => {
    server.failNextConditionalWrites(2);
    // A PUT without conditions is not one of them.
    await put("plain", "plain");
    for (const body of ["first", "second"]) {
      expect(await refusal(put("injected", body, { IfNoneMatch: "*" }))).toEqual({
        name: "ConditionalRequestConflict",
        status: 409,
      });
    }
    expect(
      (await refusal(client.send(new GetObjectCommand({ Bucket: bucket, Key: "injected" }))))
        .status,
    ).toBe(404);
    await put("injected", "third", { IfNoneMatch: "*" });
    expect(await readObject(client, bucket, "injected")).toBe("third");
    expect(server.injectedConflicts).toBe(2);
  });

  it("failNextConditionalWrites(0) turns a pending injection off", async () => {
    server.failNextConditionalWrites(5);
    server.failNextConditionalWrites(0);
    await put("not-injected", "x", { IfNoneMatch: "*" });
    expect(await readObject(client, bucket, "not-injected")).toBe("x");
  });
});
