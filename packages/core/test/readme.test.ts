// The README examples run as written: the root README's five examples in
// order, and this package's usage snippet.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { afterAll, describe, expect, it } from "vitest";

const scratch = new URL("./.readme-snippets/", import.meta.url);

function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] as string);
}

async function runModule(name: string, source: string): Promise<Record<string, unknown>> {
  await mkdir(scratch, { recursive: true });
  const file = new URL(`${name}.ts`, scratch);
  await writeFile(file, source);
  return import(/* @vite-ignore */ `${file.href}?t=${Date.now()}`);
}

afterAll(() => rm(scratch, { recursive: true, force: true }));

describe("README examples", () => {
  it("the root README's resume, resume-from, fork, validation and cancel examples run as written", async () => {
    const blocks = tsBlocks(await readFile(new URL("../../../README.md", import.meta.url), "utf8"));
    expect(blocks).toHaveLength(6);
    const [setup, resume, resumeFrom, fork, validation, cancel] = blocks as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const source = `${setup}\n${resume}\n${resumeFrom}\n${fork}
export const fromStep = redo.currentStep;
export const forkOrigin = fork.forkedFrom;
export const firstRunId = first.runId;
export const validationError = await (async () => { ${validation} })().then(() => null, (e) => e);
export const stored = await storage.listSteps("adder", first.runId);
${cancel}
export const cancelledSteps = await storage.listSteps("adder", halted.runId);
export const goOnStatus = goOn.status;
`;
    const result = await runModule("root", source);
    expect(result.fromStep).toBe(5);
    expect(result.forkOrigin).toEqual({ runId: result.firstRunId, step: 2 });
    expect(result.validationError).toMatchObject({ code: "INCOMPATIBLE_STATE" });
    expect((result.validationError as Error).message).toMatch(/^Cannot resume: .*node "b"/);
    const steps = (result.stored as { items: { step: number; parent: number | null }[] }).items;
    expect(steps.map((s) => [s.step, s.parent])).toEqual([
      [0, null],
      [1, 0],
      [2, 1],
      [3, 2],
      [4, 1],
      [5, 4],
    ]);
    const cancelled = (
      result.cancelledSteps as { items: { step: number; parent: number | null; status: string }[] }
    ).items;
    expect(cancelled.map((s) => [s.step, s.parent, s.status])).toEqual([
      [0, null, "running"],
      [1, 0, "running"],
      [2, 1, "cancelled"],
      [3, 1, "running"],
      [4, 3, "completed"],
    ]);
    expect(result.goOnStatus).toBe("completed");
  });

  it("the package README's usage snippet runs and completes after the answer", async () => {
    const [usage] = tsBlocks(await readFile(new URL("../README.md", import.meta.url), "utf8"));
    const logged: unknown[] = [];
    const original = console.log;
    console.log = (...args: unknown[]) => logged.push(args);
    try {
      await runModule("core", usage as string);
    } finally {
      console.log = original;
    }
    expect(logged).toEqual([["completed", { greeting: "hello Ada" }]]);
  });
});
