// The published contract suite, run against S3Storage on the S3-protocol test server, races included.
import { defineStorageConformance } from "@wf/storage-conformance";
import { afterAll } from "vitest";
import { openStore, removePrefix, testPrefix } from "./helpers.js";

// One prefix for the whole file: every store the suite creates, including the
// second one of a simulated restart, must see the same journal.
const prefix = testPrefix("conformance");
afterAll(() => removePrefix(prefix));

defineStorageConformance({
  name: "S3Storage",
  create: () => openStore(prefix),
  destroy: (storage) => storage.close(),
});
