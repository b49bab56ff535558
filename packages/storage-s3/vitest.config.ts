import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "storage-s3",
    include: ["test/**/*.test.ts"],
    // One S3-protocol server for every file (WF_TEST_S3_ENDPOINT, or a private s3rver).
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The SDK's documented switch for its Node 20 notice (aws/aws-sdk-js-v3#7983); tests only.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  },
});
