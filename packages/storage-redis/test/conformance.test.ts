// The published contract suite, run against RedisStorage on a real Redis (see global-setup.ts).
import { defineStorageConformance } from "@wf/storage-conformance";
import { Redis } from "ioredis";
import { afterAll, inject } from "vitest";
import { RedisStorage } from "../src/index.js";
import { damageRecord } from "./helpers.js";

const url = inject("redisUrl");
// One prefix for the file: every store the suite creates, including the one
// after a simulated restart, must see the same data.
const prefix = `${inject("redisPrefix")}conformance:`;
const raw = new Redis(url);
afterAll(() => raw.disconnect());

defineStorageConformance({
  name: "RedisStorage",
  create: ({ ttlSeconds }) => new RedisStorage({ url, prefix, ttlSeconds }),
  damage: (target, text) => damageRecord(raw, prefix, target, text),
  // The same factory for the cross-process tests' child processes.
  module: `${new URL("./fixtures/conformance-factory.mjs", import.meta.url).href}?${new URLSearchParams({ url, prefix })}`,
});
