// `npm run torture` end to end on small numbers, on the filesystem store: it
// prints the seed and a table, shows progress on stderr, and exits 0 when
// nothing was lost, torn, corrupt or duplicated. (The full run is not part of
// `npm test`.)
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const main = fileURLToPath(new URL("../dist/main.js", import.meta.url));

describe("the torture script", () => {
  it("runs a few crash cycles and a short race on fs and reports them", () => {
    const args = [
      "--stores",
      "fs",
      "--sections",
      "crash,races",
      "--cycles",
      "6",
      "--race-steps",
      "30",
      "--seed",
      "7",
    ];
    const result = spawnSync(process.execPath, [main, ...args], {
      encoding: "utf8",
      timeout: 90_000,
    });
    expect(result.stderr).toContain("fs crash: 6/6 cycles");
    expect(result.stdout).toContain("torture seed 7");
    expect(result.stdout).toMatch(/lost\s+0\s+ok/);
    expect(result.stdout).toMatch(/duplicates\s+0\s+ok/);
    expect(result.stdout).toMatch(/runs at the goal \(completed\)\s+4\/4 at step 30/);
    expect(result.status, result.stdout).toBe(0);
  });

  it("refuses an unknown store, naming the known ones", () => {
    const result = spawnSync(process.execPath, [main, "--stores", "mongo"], { encoding: "utf8" });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("unknown --stores mongo; choose from fs, postgres, redis, s3");
  });
});
