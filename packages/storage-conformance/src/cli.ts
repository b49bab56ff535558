import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { startVitest } from "vitest/node";

const USAGE = `Usage: wf-conformance <module> [--name <label>] [-t <test name pattern>]
       wf-conformance --help

Runs the @wf storage conformance suite against the store factory that <module>
default-exports: a function (context) => WorkflowStorage, or an object
{ name, create, destroy?, capabilities?, damage? } as taken by defineStorageConformance.
<module> is a file path or a package name. JavaScript and TypeScript files
(.js, .mjs, .ts, .mts) both work on Node 20: the suite runs under vitest,
which strips the types (it does not check them; run tsc for that).

For a store that declares \`persistent\`, the suite also loads <module> in
child processes that race appends to one run, and kills one of them between
two appends; every process must open the same data (read its location from
the environment, which the children inherit). Node 20 loads a child's module
without vitest, so those two tests need JavaScript: they are skipped, saying
so, for a TypeScript factory (compile it first to run them).

Options:
  --name <label>   the top-level group's name (default: <module>)
  -t <pattern>     run only the tests whose name matches <pattern>
  -h, --help       print this help and exit

Exits 0 when every test passes, 1 when one fails, 2 on a usage error.`;

interface CliArguments {
  module: string;
  name?: string;
  testNamePattern?: string;
}

function parse(argv: string[]): CliArguments | "help" | null {
  const rest = [...argv];
  const parsed: Partial<CliArguments> = {};
  while (rest.length > 0) {
    const arg = rest.shift() as string;
    if (arg === "-h" || arg === "--help") return "help";
    if (arg === "--name") parsed.name = rest.shift();
    else if (arg === "-t" || arg === "--testNamePattern") parsed.testNamePattern = rest.shift();
    else if (!parsed.module) parsed.module = arg;
    else return null;
  }
  return parsed.module ? (parsed as CliArguments) : null;
}

/** A path (relative to the working directory) becomes a file URL; anything else is a package name. */
function moduleSpecifier(target: string): string {
  const path = resolve(process.cwd(), target);
  if (target.startsWith(".") || target.startsWith("/") || existsSync(path))
    return pathToFileURL(path).href;
  return target;
}

export async function main(argv: string[]): Promise<number> {
  const args = parse(argv);
  if (args === "help") {
    console.log(USAGE);
    return 0;
  }
  if (!args) {
    console.error(USAGE);
    return 2;
  }
  process.env.WF_CONFORMANCE_MODULE = moduleSpecifier(args.module);
  process.env.WF_CONFORMANCE_NAME = args.name ?? args.module;
  const packageRoot = fileURLToPath(new URL("..", import.meta.url));
  const vitest = await startVitest("test", [], {
    root: packageRoot,
    config: false,
    watch: false,
    include: ["runner/conformance.test.js"],
    exclude: [],
    testNamePattern: args.testNamePattern,
    // Every test by name: an adapter author wants to see what was checked.
    reporters: ["verbose"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  });
  await vitest.close();
  return process.exitCode === undefined || process.exitCode === 0 ? 0 : Number(process.exitCode);
}
