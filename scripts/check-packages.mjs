#!/usr/bin/env node
// Checks what users get from the registry, not what the workspace links: packs every
// publishable package under packages/, inspects each tarball (LICENSE, README, source maps
// that resolve, no stale dist files), runs publint and arethetypeswrong on it, then installs
// the tarballs into a new app outside the monorepo, loads every entry point (subpaths such as
// `@wf/core/storage` included) and runs a workflow on MemoryStorage from an ES module, a
// CommonJS module and strict TypeScript (NodeNext, skipLibCheck: false).
// Run by `npm test`; alone: `npm run check-packages` (builds what it packs first).
import { execFileSync } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { publint } from "publint";
import { formatMessage } from "publint/utils";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const failures = [];
const started = Date.now();

function step(message) {
  console.log(`\n[check-packages] ${message}`);
}
function fail(pkg, message) {
  failures.push(`${pkg}: ${message}`);
  console.log(`  FAIL ${pkg}: ${message}`);
}
function run(command, args, options = {}) {
  return execFileSync(command, args, {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    shell: process.platform === "win32",
    ...options,
  });
}
/** Runs a command whose failure is a finding, not a crash: returns its output and exit status. */
function attempt(command, args, options = {}) {
  try {
    return { ok: true, output: run(command, args, options) };
  } catch (error) {
    return { ok: false, output: `${error.stdout ?? ""}${error.stderr ?? ""}` || error.message };
  }
}
function filesUnder(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

const packages = readdirSync(join(root, "packages"))
  .map((name) => join(root, "packages", name))
  .filter((dir) => existsSync(join(dir, "package.json")))
  .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) }))
  .filter(({ manifest }) => !manifest.private);
const names = packages.map(({ manifest }) => manifest.name);
// Every import specifier a user can write: each package and its subpath entries
// (`@wf/core/storage`, `@wf/storage-conformance/records`), package.json aside.
const entries = packages.flatMap(({ manifest }) =>
  Object.keys(manifest.exports ?? { ".": null })
    .filter((key) => key !== "./package.json")
    .map((key) => (key === "." ? manifest.name : `${manifest.name}/${key.slice(2)}`)),
);

step(`building ${names.join(", ")}`);
run(
  "npx",
  ["turbo", "run", "build", "--output-logs=errors-only", ...names.map((n) => `--filter=${n}`)],
  {
    stdio: ["ignore", "inherit", "inherit"],
  },
);

const work = mkdtempSync(join(tmpdir(), "wf-packages-"));
try {
  step(`packing into ${work}`);
  const tarballDir = join(work, "tarballs");
  mkdirSync(tarballDir);
  const packed = JSON.parse(
    run(npm, [
      "pack",
      "--json",
      "--pack-destination",
      tarballDir,
      ...names.flatMap((n) => ["-w", n]),
    ]),
  );
  const tarballs = new Map(packed.map((p) => [p.name, join(tarballDir, p.filename)]));

  for (const { manifest } of packages) {
    const name = manifest.name;
    const tarball = tarballs.get(name);
    step(`${name}: contents, publint, arethetypeswrong`);
    const unpacked = join(work, "unpacked", name);
    mkdirSync(unpacked, { recursive: true });
    run("tar", ["-xzf", tarball, "-C", unpacked]);
    const pkgDir = join(unpacked, "package");
    const files = filesUnder(pkgDir).map((f) => relative(pkgDir, f).split("\\").join("/"));
    console.log(`  ${files.length} files`);

    for (const required of [
      "LICENSE",
      "README.md",
      "package.json",
      "src/index.ts",
      "dist/index.js",
    ]) {
      if (!files.includes(required)) fail(name, `the tarball has no ${required}`);
    }
    // `build` empties dist first; a compiled file without a source means a stale build slipped in.
    const shipsSource = files.includes("src/index.ts");
    for (const file of files.filter(
      (f) => shipsSource && f.startsWith("dist/") && f.endsWith(".js"),
    )) {
      const source = `src/${file.slice("dist/".length, -".js".length)}.ts`;
      if (!files.includes(source)) fail(name, `${file} has no ${source}: stale build output?`);
    }
    // Maps point at ../src/*.ts; debuggers and "go to definition" need those files shipped.
    let sources = 0;
    for (const file of files.filter((f) => f.endsWith(".map"))) {
      const map = JSON.parse(readFileSync(join(pkgDir, file), "utf8"));
      for (const source of map.sources) {
        sources += 1;
        const target = resolve(dirname(join(pkgDir, file)), map.sourceRoot ?? "", source);
        if (!existsSync(target))
          fail(name, `${file} points at ${source}, which is not in the tarball`);
      }
    }
    console.log(`  source maps: ${sources} source references checked`);
    for (const field of ["repository", "homepage", "bugs", "license"]) {
      if (!manifest[field]) fail(name, `package.json has no "${field}"`);
    }

    // The unpacked tarball is exactly what is published, so publint needs no packing of its own.
    const lint = await publint({ pkgDir, pack: false, strict: true });
    const problems = lint.messages.filter((m) => m.type !== "suggestion");
    for (const message of lint.messages) {
      console.log(
        `  publint ${message.type}: ${formatMessage(message, lint.pkg, { color: false })}`,
      );
    }
    if (problems.length > 0) fail(name, `publint reported ${problems.length} problem(s)`);
    else console.log("  publint: no errors or warnings");

    // The packages are ES modules that CommonJS loads through require(esm) (Node 20.19+,
    // documented in each README), so "CJS resolves to ESM" is the intended design, not a
    // mistake; every other rule, node10 resolution included, stays on.
    const attw = attempt("npx", [
      "attw",
      tarball,
      "--format",
      "ascii",
      "--no-emoji",
      "--no-color",
      "--ignore-rules",
      "cjs-resolves-to-esm",
    ]);
    if (!attw.ok) {
      console.log(attw.output);
      fail(name, "arethetypeswrong reported problems (output above)");
    } else console.log("  arethetypeswrong: no problems (cjs-resolves-to-esm ignored by design)");
  }

  step("installing the tarballs into a new app");
  const app = join(work, "app");
  mkdirSync(app);
  writeFileSync(
    join(app, "package.json"),
    `${JSON.stringify({ name: "wf-smoke-app", private: true, version: "0.0.0" }, null, 2)}\n`,
  );
  const nodeTypes = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).devDependencies[
    "@types/node"
  ];
  run(
    npm,
    [
      "install",
      "--no-audit",
      "--no-fund",
      "--prefer-offline",
      "--loglevel=error",
      ...tarballs.values(),
      `@types/node@${nodeTypes}`,
    ],
    { cwd: app },
  );
  for (const name of names) {
    if (lstatSync(join(app, "node_modules", name)).isSymbolicLink())
      fail(name, "is linked, not installed from its tarball");
  }

  // One workflow, three consumers: each prints "total=3 status=completed" or fails.
  const workflow = (importLine) => `${importLine}
class Add extends Node {
  cleanup(shared) {
    shared.total += 1;
  }
}
async function main() {
  const engine = await WorkflowEngine.create({
    workflowId: "smoke",
    nodes: [new Add({ id: "a" }), new Add({ id: "b" }), new Add({ id: "c" })],
    edges: [{ from: "a", to: "b" }, { from: "b", to: "c" }],
    initialState: { total: 0 },
    storage: new MemoryStorage(),
  });
  const status = await engine.run();
  console.log(\`total=\${engine.shared.total} status=\${status}\`);
}
main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
`;
  const loadAll = (load) =>
    entries.map(
      (n) => `if (Object.keys(${load(n)}).length === 0) throw new Error("${n} exports nothing");`,
    );
  writeFileSync(
    join(app, "esm.mjs"),
    `${loadAll((n) => `await import("${n}")`).join("\n")}\n${workflow('import { MemoryStorage, Node, WorkflowEngine } from "@wf/core";')}`,
  );
  writeFileSync(
    join(app, "cjs.cjs"),
    `${loadAll((n) => `require("${n}")`).join("\n")}\n${workflow('const { MemoryStorage, Node, WorkflowEngine } = require("@wf/core");')}`,
  );
  writeFileSync(
    join(app, "typed.mts"),
    `import { MemoryStorage, Node, WorkflowEngine } from "@wf/core";
import { MAX_PAGE_SIZE, pageRuns, type WorkflowStorage } from "@wf/core/storage";
import { sampleRun } from "@wf/storage-conformance/records";
import type { PostgresStorageOptions } from "@wf/storage-postgres";
import type { Pool } from "pg";

type State = { total: number };
class Add extends Node<State> {
  override cleanup(shared: State) {
    shared.total += 1;
  }
}
// Typed, not connected: fails to compile if pg's types are missing (the option becomes any).
const options: PostgresStorageOptions = { connectionString: "postgres://localhost/wf" };
const pool: Pool | undefined = undefined;
void options;
void pool;
// The adapter kit and the record builders type-check from their subpath entries.
const storage: WorkflowStorage = new MemoryStorage();
const page = pageRuns([sampleRun("smoke", "r1")], { limit: MAX_PAGE_SIZE });
if (page.items.length !== 1) throw new Error("pageRuns from @wf/core/storage returned no run");
void storage;

const engine = await WorkflowEngine.create({
  workflowId: "smoke",
  nodes: [new Add({ id: "a" }), new Add({ id: "b" }), new Add({ id: "c" })],
  edges: [
    { from: "a", to: "b" },
    { from: "b", to: "c" },
  ],
  initialState: { total: 0 },
  storage: new MemoryStorage(),
});
const status = await engine.run();
const total: number = engine.shared.total;
console.log(\`total=\${total} status=\${status}\`);
`,
  );
  writeFileSync(
    join(app, "typed-cjs.cts"),
    `import core = require("@wf/core");
import kit = require("@wf/core/storage");

if (kit.pageSize(undefined) !== kit.DEFAULT_PAGE_SIZE) throw new Error("@wf/core/storage from CommonJS");

class Add extends core.Node<{ total: number }> {
  override cleanup(shared: { total: number }) {
    shared.total += 1;
  }
}
core.WorkflowEngine.create({
  workflowId: "smoke",
  nodes: [new Add({ id: "a" }), new Add({ id: "b" }), new Add({ id: "c" })],
  edges: [
    { from: "a", to: "b" },
    { from: "b", to: "c" },
  ],
  initialState: { total: 0 },
  storage: new core.MemoryStorage(),
})
  .then(async (engine) => {
    const status = await engine.run();
    console.log(\`total=\${engine.shared.total} status=\${status}\`);
  })
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
`,
  );
  writeFileSync(
    join(app, "tsconfig.json"),
    `${JSON.stringify(
      {
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          skipLibCheck: false,
          types: ["node"],
          outDir: "out",
        },
        files: ["typed.mts", "typed-cjs.cts"],
      },
      null,
      2,
    )}\n`,
  );

  step("compiling the TypeScript consumers (NodeNext, strict, skipLibCheck: false)");
  const tsc = attempt(
    process.execPath,
    [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", app],
    {
      cwd: app,
    },
  );
  if (!tsc.ok) {
    console.log(tsc.output);
    fail("typescript consumer", "tsc failed (output above)");
  } else console.log("  tsc: ok");

  const consumers = [
    ["ESM (.mjs, import)", "esm.mjs"],
    ["CommonJS (.cjs, require)", "cjs.cjs"],
  ];
  if (tsc.ok)
    consumers.push(
      ["TypeScript ESM (.mts)", "out/typed.mjs"],
      ["TypeScript CommonJS (.cts)", "out/typed-cjs.cjs"],
    );
  for (const [label, file] of consumers) {
    step(`running the ${label} consumer`);
    const result = attempt(process.execPath, [file], { cwd: app });
    const output = result.output.trim();
    console.log(`  ${output.split("\n").join("\n  ")}`);
    if (!result.ok || output !== "total=3 status=completed")
      fail(label, `expected "total=3 status=completed"`);
  }
} finally {
  // A failed run keeps its tarballs and app for a look; a passing one leaves nothing behind.
  if (failures.length > 0) console.log(`\n[check-packages] kept ${work} for inspection`);
  else rmSync(work, { recursive: true, force: true });
}

const seconds = ((Date.now() - started) / 1000).toFixed(1);
if (failures.length > 0) {
  console.error(`\n[check-packages] ${failures.length} failure(s) in ${seconds}s:`);
  for (const failure of failures) console.error(`  - ${failure}`);
  process.exit(1);
}
console.log(
  `\n[check-packages] ${names.length} packages packed, linted and installed: all consumers ran (${seconds}s)`,
);
