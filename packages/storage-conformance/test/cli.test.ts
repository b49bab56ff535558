// The `wf-conformance` bin, as a third party runs it: a passing store exits 0;
// each deliberately broken store in fixtures/ is caught by the test named
// after its defect and exits non-zero.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const bin = fileURLToPath(new URL("../bin/wf-conformance.js", import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

function runBin(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [bin, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env, NO_COLOR: "1", FORCE_COLOR: "0" },
    timeout: 120_000,
  });
  return { status: result.status, output: `${result.stdout}\n${result.stderr}` };
}

describe("wf-conformance bin", () => {
  it("passes a correct store given as a module whose default export is the factory", () => {
    const { status, output } = runBin([fixture("memory-factory.js"), "--name", "third-party"]);
    expect(output).toMatch(/Tests\s+\d+ passed/);
    expect(output).not.toMatch(/\d+ failed/);
    expect(output).toContain("storage conformance: third-party");
    expect(status).toBe(0);
  });

  it("fails a store whose append is unconditional, in the race tests", () => {
    const { status, output } = runBin([fixture("broken-storage.js")], {
      WF_BROKEN: "unconditional-append",
    });
    expect(status).not.toBe(0);
    expect(output).toMatch(/FAIL .*16 writers racing for the same step/);
    expect(output).toMatch(/FAIL .*eight engines stepping one run at once/);
  });

  it("fails a store whose fork writes into its source, in the byte-identity test", () => {
    const { status, output } = runBin([fixture("broken-storage.js")], {
      WF_BROKEN: "fork-shares-steps",
    });
    expect(status).not.toBe(0);
    expect(output).toMatch(/FAIL .*the source stays byte-identical/);
  });

  it("fails a store that expires runs ttlSeconds after createRun, in the last-write retention test", () => {
    const { status, output } = runBin([fixture("broken-storage.js"), "-t", "retention"], {
      WF_BROKEN: "ttl-from-create",
    });
    expect(status).not.toBe(0);
    expect(output).toMatch(/FAIL .*retention counts from the last write/);
    expect(output).toMatch(/the run expired 4 s after createRun/);
    expect(output).toMatch(/Tests\s+1 failed \| 1 passed/);
  });

  it("fails a store that does not cap page sizes, in the MAX_PAGE_SIZE test", () => {
    const { status, output } = runBin([fixture("broken-storage.js"), "-t", "listing"], {
      WF_BROKEN: "uncapped-pages",
    });
    expect(status).not.toBe(0);
    expect(output).toMatch(/FAIL .*a limit above MAX_PAGE_SIZE is capped/);
    expect(output).toMatch(/Tests\s+1 failed \|/);
  });

  it("fails a store that keeps the records it was handed in one test naming the cause", () => {
    const { status, output } = runBin([fixture("broken-storage.js")], {
      WF_BROKEN: "kept-references",
    });
    expect(status).not.toBe(0);
    expect(output).toMatch(/FAIL .*the store keeps copies of the records it is handed/);
    expect(output).toContain(
      "the store kept a reference to the record it was handed: mutating it after appendStep changed what is read back",
    );
    expect(output).toMatch(/Tests\s+1 failed \|/);
  });

  it("fails a store without the contract's methods once, listing the missing methods", () => {
    const { status, output } = runBin([fixture("wrong-shape.js")]);
    expect(status).not.toBe(0);
    expect(output).toMatch(/FAIL .*the store has every method of the contract/);
    expect(output).toContain(
      "the store lacks contract methods: createRun, appendStep, getStep, getLatestStep, listSteps, listRuns, listWorkflows, deleteRun",
    );
    expect(output).not.toContain("is not a function");
    expect(output).toMatch(/Tests\s+1 failed \| \d+ skipped/);
  });

  it("fails a store that declares `persistent` but forgets on restart; skips the restart tests, saying why, on a store that does not declare it", () => {
    const broken = runBin([fixture("broken-storage.js"), "-t", "persistent"], {
      WF_BROKEN: "forgets-on-restart",
    });
    expect(broken.status).not.toBe(0);
    expect(broken.output).toMatch(
      /FAIL .*what was written before close is there for the next store/,
    );
    const memory = runBin([fixture("memory-factory.js"), "-t", "persistent"]);
    expect(memory.status).toBe(0);
    expect(memory.output).toMatch(/↓ .*what was written before close is there for the next store/);
    expect(memory.output).toMatch(/↓ .*writers racing from two store instances/);
    expect(memory.output).toMatch(/↓ .*4 processes racing for each step/);
    expect(memory.output).toMatch(/Tests\s+\d+ skipped/);
  });

  it("fails a store whose round trips grow with the run, through the roundTrips hook, in the flat-cost test", () => {
    const { status, output } = runBin([fixture("broken-storage.js"), "-t", "flat cost"], {
      WF_BROKEN: "costly-open",
    });
    expect(status).not.toBe(0);
    expect(output).toMatch(/FAIL .*a step and an open take the same storage calls/);
    expect(output).toMatch(/Tests\s+1 failed/);
  });

  it("fails a persistent store that locks appends per process only, in the cross-process race and nowhere else", () => {
    const dir = mkdtempSync(join(tmpdir(), "wf-per-process-lock-"));
    try {
      const { status, output } = runBin([fixture("broken-storage.js")], {
        WF_BROKEN: "per-process-lock",
        WF_BROKEN_FILE: join(dir, "runs.json"),
      });
      expect(status).not.toBe(0);
      expect(output).toMatch(/FAIL .*4 processes racing for each step/);
      expect(output).toMatch(
        /(two processes both|\d processes all) acknowledged step 1 \(children #\d.*\): the append is conditional within one process but not across processes/,
      );
      // Every in-process test passes it: only child processes show the defect.
      expect(output).toMatch(/Tests\s+1 failed \| \d+ passed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("passes the same file store under a lock every process honours, in the cross-process tests", () => {
    const dir = mkdtempSync(join(tmpdir(), "wf-file-locked-"));
    try {
      const { status, output } = runBin(
        [fixture("broken-storage.js"), "-t", "appends from several processes"],
        { WF_BROKEN: "file-locked", WF_BROKEN_FILE: join(dir, "runs.json") },
      );
      expect(output).toMatch(/✓ .*4 processes racing for each step/);
      expect(output).toMatch(/✓ .*a process killed between two appends/);
      expect(output).toMatch(/Tests\s+2 passed/);
      expect(status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs a factory written in TypeScript on Node 20", () => {
    const { status, output } = runBin([fixture("memory-factory.ts"), "-t", "creating and reading"]);
    expect(output).toMatch(/Tests\s+\d+ passed/);
    expect(output).not.toMatch(/\d+ failed/);
    expect(status).toBe(0);
  });

  it("prints its usage and exits 0 with --help", () => {
    const { status, output } = runBin(["--help"]);
    expect(status).toBe(0);
    expect(output).toContain("Usage: wf-conformance <module>");
    expect(output).toContain("TypeScript");
  });

  it("prints its usage and exits 2 without a module", () => {
    const { status, output } = runBin([]);
    expect(status).toBe(2);
    expect(output).toContain("Usage: wf-conformance <module>");
  });
});
