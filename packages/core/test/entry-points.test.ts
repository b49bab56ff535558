// The two entry points: `@wf/core` for workflow authors, `@wf/core/storage` for
// adapter authors. Checked through the package's own `exports`, as users resolve them.
import * as core from "@wf/core";
import * as kit from "@wf/core/storage";
import { describe, expect, it } from "vitest";

const ADAPTER_KIT = [
  "advanceRunMetadata",
  "assertRunIds",
  "checkFromUrlOptions",
  "checkListOptions",
  "checkOptions",
  "checkRunMetadata",
  "checkStepRecord",
  "compareRunsNewestFirst",
  "decodeCursor",
  "DEFAULT_PAGE_SIZE",
  "encodeCursor",
  "GroupCommit",
  "isRunPosition",
  "isStepPosition",
  "isTextPosition",
  "maskPassword",
  "MAX_PAGE_SIZE",
  "missingStorageMethods",
  "pageRuns",
  "pageSize",
  "parseRecordJson",
  "stepRecordJson",
  "STORAGE_METHODS",
];

describe("entry points", () => {
  it("@wf/core/storage exports exactly the adapter kit", () => {
    expect(Object.keys(kit).sort()).toEqual([...ADAPTER_KIT].sort());
  });

  it("@wf/core keeps the engine, errors, ids and MemoryStorage, and none of the adapter kit", () => {
    for (const name of [
      "WorkflowEngine",
      "Node",
      "MemoryStorage",
      "assertValidId",
      "ERROR_CODES",
    ]) {
      expect(core, name).toHaveProperty(name);
    }
    const leaked = ADAPTER_KIT.filter((name) => name in core);
    expect(leaked, "adapter-kit names still exported from @wf/core").toEqual([]);
  });
});
