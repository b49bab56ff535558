// `@wf/storage-conformance/records` is for adapter authors' own tests, whatever
// they run them with: its module graph must never load vitest. A child node
// process whose resolver refuses `vitest` imports each entry; the root entry,
// which does load vitest, proves the refusal bites.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const packageRoot = fileURLToPath(new URL("..", import.meta.url));
const refuseVitest = `export async function resolve(specifier, context, next) {
  if (specifier === "vitest" || specifier.startsWith("vitest/")) {
    throw new Error("vitest was imported by " + context.parentURL);
  }
  return next(specifier, context);
}`;

function importWithoutVitest(specifier: string) {
  const script = `
import { register } from "node:module";
register("data:text/javascript," + encodeURIComponent(${JSON.stringify(refuseVitest)}));
const entry = await import(${JSON.stringify(specifier)});
console.log(Object.keys(entry).sort().join(","));
`;
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd: packageRoot,
    encoding: "utf8",
  });
  return { status: result.status, stdout: result.stdout.trim(), stderr: result.stderr };
}

describe("the records entry", () => {
  it("loads in a process where vitest cannot be resolved", () => {
    const { status, stdout, stderr } = importWithoutVitest("@wf/storage-conformance/records");
    expect(stderr).toBe("");
    expect(status).toBe(0);
    expect(stdout).toBe(
      "collectPages,rejection,runOnce,sampleRun,sampleStep,seedRun,snapshotRun,typeErrorOf,uniqueRunId",
    );
  });

  it("is what the refusal is checked against: the root entry, which loads vitest, fails there", () => {
    const { status, stderr } = importWithoutVitest("@wf/storage-conformance");
    expect(status).not.toBe(0);
    expect(stderr).toContain("vitest was imported by");
  });
});
