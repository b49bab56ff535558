// Bad input: an unknown scheme, an unreachable server, a missing adapter
// package, hostile and unknown ids, a module that exports no definition, and
// command-line mistakes. Each gives a message that says what to do, the
// documented exit code (1 operational, 2 usage), and leaves the store as it was.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APPROVAL, NOT_A_DEFINITION, type Seeded, seed, wf } from "./helpers.js";
import { makeStore, type TestStore } from "./stores.js";

const run = promisify(execFile);
const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
const HIDE = fileURLToPath(new URL("./fixtures/hide-package.mjs", import.meta.url));

/** Every file under `dir` with a hash of its content: equal snapshots mean nothing was written. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files[path] = createHash("sha256")
      .update(await readFile(path))
      .digest("hex");
  }
  return files;
}

/** Runs the built `wf` in a child process. */
async function bin(args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []) {
  try {
    const { stdout, stderr } = await run(process.execPath, [...nodeArgs, BIN, ...args], {
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe("bad input", () => {
  let store: TestStore;
  let runs: Seeded;
  let dir: string;
  let before: Record<string, string>;

  beforeAll(async () => {
    store = await makeStore("fs");
    const storage = await store.open();
    runs = await seed(storage);
    await storage.close();
    dir = store.url.slice("file:".length);
    before = await snapshot(dir);
  });
  afterAll(async () => {
    // Nothing any test below did may have changed the store.
    expect(await snapshot(dir)).toEqual(before);
    await store.dispose();
  });

  it("an unknown scheme is a usage error listing the supported ones, without the password", async () => {
    const result = await wf("mysql://root:hunter2@127.0.0.1/db", ["runs", "approval"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown scheme "mysql:"');
    expect(result.stderr).toContain("postgres:");
    expect(result.stderr).not.toContain("hunter2");
  });

  it("an unreachable PostgreSQL server is an operational error that says to check the server", async () => {
    const result = await wf("postgres://wf:hunter2@127.0.0.1:1/test", ["runs", "approval"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("running and reachable");
    expect(result.stderr).not.toContain("hunter2");
  });

  it("an unreachable Redis server is an operational error, not a hang", async () => {
    const result = await wf("redis://127.0.0.1:1/0", ["workflows"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("running and reachable");
  });

  it("a missing adapter package names the package to install", async () => {
    const result = await bin(
      ["--store", "postgres://127.0.0.1/test", "workflows"],
      { WF_HIDE_PACKAGE: "@wf/storage-postgres" },
      ["--import", HIDE],
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("npm install @wf/storage-postgres");
  });

  it.each([
    ["a path", "../../etc"],
    ["__proto__", "__proto__"],
    ["a NUL", "a\u0000b"],
    ["a wildcard", "run*"],
    ["129 characters", "r".repeat(129)],
  ])(
    "a hostile run id (%s) is refused by the id rule before the store is touched",
    async (_what, id) => {
      for (const args of [
        ["show", "approval", id],
        ["delete", "approval", id, "--yes", "--force"],
        ["cancel", "approval", id, "--yes"],
        ["steps", id, runs.completed],
        ["diff", "approval", `${id}@1`, `${runs.completed}@1`],
        ["answer", "approval", id, "review=yes", "--definition", APPROVAL],
      ]) {
        const result = await wf(store.url, args);
        expect(result.code, args.join(" ")).toBe(2);
        expect(result.stderr).toContain("1 to 128 characters");
      }
    },
  );

  it("an unknown run is an operational error pointing at `wf runs`", async () => {
    const result = await wf(store.url, ["show", "approval", "no-such-run"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Run "no-such-run" of workflow "approval" does not exist');
    expect(result.stderr).toContain("wf runs <workflow>");
    const deleting = await wf(store.url, ["delete", "approval", "no-such-run", "--yes"]);
    expect(deleting.code).toBe(1);
  });

  it("a definition module that exports no definition says what to export", async () => {
    const result = await wf(store.url, [
      "answer",
      "approval",
      runs.waiting,
      "review=yes",
      "--definition",
      NOT_A_DEFINITION,
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("exports no workflow definition (it exports: answer, default)");
    expect(result.stderr).toContain("export default { workflowId, nodes, edges, start }");
    const missing = await wf(store.url, ["validate", "approval", "--definition", "./nowhere.mjs"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("there is no file");
  });

  it("an answer to a question the run does not ask is refused and journals nothing", async () => {
    const result = await wf(store.url, [
      "answer",
      "approval",
      runs.waiting,
      "colour=blue",
      "--definition",
      APPROVAL,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("review");
  });

  it.each([
    [["nonsense"], "unknown command"],
    [["runs"], "missing required argument"],
    [["runs", "approval", "--limit", "0"], "--limit must be a positive whole number"],
    [["runs", "approval", "--status", "done"], "--status must be one of"],
    [["prune", "approval", "--older-than", "30 days"], "--older-than must be"],
    [["show", "approval", "x", "--step", "-1"], "--step must be a step number"],
    [["diff", "approval", "a", "b"], "is not <run>@<step>"],
    [["copy", "--from", "file:/tmp/a", "--to", "file:/tmp/a"], "same store"],
  ])("wf %j is a usage error (exit 2)", async (args, message) => {
    const result = await wf(store.url, args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it("--json errors are one JSON object on stderr with the code", async () => {
    const result = await wf(store.url, ["show", "approval", "no-such-run", "--json"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(JSON.parse(result.stderr)).toMatchObject({ error: { code: "RUN_NOT_FOUND" } });
  });

  it("the built bin prints help and its version with exit code 0", async () => {
    const help = await bin(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: wf [options] [command]");
    for (const command of [
      "workflows",
      "runs",
      "steps",
      "show",
      "diff",
      "delete",
      "cancel",
      "prune",
      "validate",
      "resume",
      "fork",
      "answer",
      "copy",
      "ui",
    ]) {
      expect(help.stdout).toContain(`  ${command}`);
    }
    const version = await bin(["--version"]);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const runs = await bin(["--store", store.url, "runs", "approval", "--json"]);
    expect(runs.code).toBe(0);
    expect(JSON.parse(runs.stdout).runs).toHaveLength(5);
  });
});
