// The reference implementation runs the whole suite like any adapter.
import { MemoryStorage } from "@wf/core";
import { defineStorageConformance } from "../src/index.js";

defineStorageConformance({
  name: "MemoryStorage",
  create: ({ ttlSeconds }) => new MemoryStorage({ ttlSeconds }),
});
