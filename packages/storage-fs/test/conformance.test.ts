// The published contract suite, run against FileSystemStorage on a real temporary directory.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineStorageConformance } from "@wf/storage-conformance";
import { afterAll } from "vitest";
import { FileSystemStorage } from "../src/index.js";

// One directory for the whole file: every store the suite creates, including
// the second one of a simulated restart, must see the same journal.
const dir = mkdtempSync(join(tmpdir(), "wf-fs-conformance-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

defineStorageConformance({
  name: "FileSystemStorage",
  create: () => new FileSystemStorage({ dir }),
  destroy: (storage) => storage.close(),
});
