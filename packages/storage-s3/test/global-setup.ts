// Finds the S3-protocol server every test file uses (WF_TEST_S3_ENDPOINT, else a private s3rver; see @wf/test-services) and makes sure its bucket exists.
import { CreateBucketCommand, HeadBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { findS3, type S3TestConfig } from "@wf/test-services/s3";
import type { TestProject } from "vitest/node";
import { clientConfig } from "./fixtures/client-config.js";

declare module "vitest" {
  export interface ProvidedContext {
    s3: S3TestConfig;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const found = await findS3();
  const client = new S3Client(clientConfig(found.config));
  try {
    await client.send(new HeadBucketCommand({ Bucket: found.config.bucket }));
  } catch {
    await client.send(new CreateBucketCommand({ Bucket: found.config.bucket }));
  } finally {
    client.destroy();
  }
  project.provide("s3", found.config);
  return () => found.stop();
}
