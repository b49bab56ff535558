// Output for people: colour only on a terminal and never with NO_COLOR or
// --no-color; tables fitted to the terminal's width, and not cut in a pipe;
// journal text cannot move the cursor.
import { WorkflowEngine } from "@wf/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APPROVAL, seed, wf } from "./helpers.js";
import { makeStore, type TestStore } from "./stores.js";

// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for escape sequences.
const ESCAPE = /\u001b\[/;

describe("output", () => {
  let store: TestStore;
  let hostileRun: string;

  beforeAll(async () => {
    store = await makeStore("fs");
    const storage = await store.open();
    await seed(storage);
    const { default: approval } = await import(APPROVAL);
    // Its error message carries the topic, escape sequence included.
    const engine = await WorkflowEngine.create({
      ...approval,
      storage,
      initialState: { topic: "a\u001b[2Jb", fail: true },
    });
    await engine.run();
    await engine.run({ review: "yes" });
    hostileRun = engine.runId;
    await storage.close();
  });
  afterAll(() => store.dispose());

  it("colours statuses on a terminal", async () => {
    const result = await wf(store.url, ["runs", "approval"], { tty: true, columns: 200 });
    expect(result.stdout).toMatch(ESCAPE);
  });

  it("never colours with NO_COLOR, with --no-color, or in a pipe", async () => {
    expect(
      (await wf(store.url, ["runs", "approval"], { tty: true, env: { NO_COLOR: "1" } })).stdout,
    ).not.toMatch(ESCAPE);
    expect(
      (await wf(store.url, ["--no-color", "runs", "approval"], { tty: true })).stdout,
    ).not.toMatch(ESCAPE);
    expect((await wf(store.url, ["runs", "approval"])).stdout).not.toMatch(ESCAPE);
  });

  it("fits tables to the terminal's width, and does not cut them in a pipe", async () => {
    const narrow = await wf(store.url, ["runs", "approval"], {
      tty: true,
      columns: 70,
      env: { NO_COLOR: "1" },
    });
    const lines = narrow.stdout.trimEnd().split("\n");
    expect(lines.length).toBe(7);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(70);
    expect(narrow.stdout).toContain("…");
    const piped = await wf(store.url, ["runs", "approval"]);
    expect(piped.stdout).not.toContain("…");
  });

  it("never prints control characters from the journal, which --json keeps", async () => {
    const json = await wf(store.url, ["show", "approval", hostileRun, "--json"]);
    expect(json.json<{ record: { error: { message: string } } }>().record.error.message).toBe(
      "the printer is on fire (a\u001b[2Jb)",
    );
    const steps = await wf(store.url, ["steps", "approval", hostileRun], {
      tty: true,
      env: { NO_COLOR: "1" },
    });
    expect(steps.stdout).toContain("the printer is on fire (a [2Jb)");
    expect(steps.stdout).not.toMatch(ESCAPE);
    const show = await wf(store.url, ["show", "approval", hostileRun], {
      tty: true,
      env: { NO_COLOR: "1" },
    });
    expect(show.stdout).toContain("the printer is on fire (a [2Jb)");
    expect(show.stdout).not.toMatch(ESCAPE);
  });

  it("completion prints a bash script that knows every command and its options", async () => {
    const result = await wf(store.url, ["completion", "bash"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("complete -o default -F _wf_complete wf");
    expect(result.stdout).toMatch(/prune\) opts="--older-than --status --dry-run --yes --force/);
    expect(result.stdout).toMatch(/cancel\) opts="--reason --yes /);
    expect(result.stdout).toMatch(/compgen -W "[^"]*\bcancel\b/);
    expect((await wf(store.url, ["completion", "fish"])).code).toBe(2);
  });

  it("show says when a failed step's retry is scheduled", async () => {
    // Last: it adds a run, which the tables above would count.
    const storage = await store.open();
    const { default: approval } = await import(APPROVAL);
    const engine = await WorkflowEngine.create({
      ...approval,
      storage,
      initialState: { topic: "retry", fail: true },
    });
    const at = new Date("2026-11-29T04:00:00.000Z");
    expect(await engine.run()).toBe("waiting_for_input");
    expect(await engine.run({ review: "yes" }, { retryAt: () => at })).toBe("failed");
    await storage.close();
    const shown = await wf(store.url, ["show", "approval", engine.runId]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/retry\s+scheduled for 2026-11-29T04:00:00.000Z/);
  });
});
