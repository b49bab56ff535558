// The published contract suite, run against FileSystemStorage on a real temporary directory.
import { mkdtempSync, rmSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineStorageConformance } from "@wf/storage-conformance";
import { afterAll } from "vitest";
import { FileSystemStorage } from "../src/index.js";
import { RunPaths } from "../src/layout.js";

// One directory for the whole file: every store the suite creates, including
// the second one of a simulated restart, must see the same journal.
const dir = mkdtempSync(join(tmpdir(), "wf-fs-conformance-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

defineStorageConformance({
  name: "FileSystemStorage",
  create: () => new FileSystemStorage({ dir }),
  destroy: (storage) => storage.close(),
  // The same factory for the cross-process tests' child processes.
  module: `${new URL("./fixtures/conformance-factory.mjs", import.meta.url).href}?${new URLSearchParams({ dir })}`,
  // The metadata is run.json; a step is its file, rewritten in place. When
  // that step is the head, head.json is a second name of the same file and
  // changes with it, as it would if the disk or a hand damaged the file.
  async damage({ workflowId, runId, record }, text) {
    const paths = RunPaths.of(dir, workflowId, runId);
    const file = record === "metadata" ? paths.runFile : paths.stepFile(record);
    if (text === null) await rm(file);
    else await writeFile(file, text);
  },
});
