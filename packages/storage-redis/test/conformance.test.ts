// The published contract suite, run against RedisStorage on a real Redis (see global-setup.ts).
import { defineStorageConformance } from "@wf/storage-conformance";
import { inject } from "vitest";
import { RedisStorage } from "../src/index.js";

const url = inject("redisUrl");
// One prefix for the file: every store the suite creates, including the one
// after a simulated restart, must see the same data.
const prefix = `${inject("redisPrefix")}conformance:`;

defineStorageConformance({
  name: "RedisStorage",
  create: ({ ttlSeconds }) => new RedisStorage({ url, prefix, ttlSeconds }),
});
