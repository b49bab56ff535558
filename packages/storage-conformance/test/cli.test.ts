// The `wf-conformance` bin, as a third party runs it: a passing store exits 0;
// a store with a broken conditional append or a fork that shares its source's
// steps is caught by the race and byte-identity tests and exits non-zero.
import { spawnSync } from "node:child_process";
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

  it("prints its usage and exits 2 without a module", () => {
    const { status, output } = runBin([]);
    expect(status).toBe(2);
    expect(output).toContain("Usage: wf-conformance <module>");
  });
});
