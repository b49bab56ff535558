// The README's usage snippet runs as written.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { afterAll, expect, it } from "vitest";

const scratch = new URL("./.readme-snippets/", import.meta.url);

afterAll(() => rm(scratch, { recursive: true, force: true }));

it("the README's usage snippet starts the inspector, prints its address and closes", async () => {
  const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
  const [usage] = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] as string);
  expect(usage).toContain("startInspector");
  await mkdir(scratch, { recursive: true });
  const file = new URL("usage.ts", scratch);
  await writeFile(file, usage as string);
  const logged: unknown[][] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => logged.push(args);
  try {
    await import(/* @vite-ignore */ `${file.href}?t=${Date.now()}`);
  } finally {
    console.log = original;
  }
  expect(String(logged[0]?.[0])).toMatch(
    /^Open http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/,
  );
});
