#!/usr/bin/env node
// `changeset version` for a 0.x family of packages. Changesets gives a dependent a *major*
// bump when a release leaves its peer range, so a minor of @wf/core (0.1.0 -> 0.2.0, out of
// `^0.1.0`) would turn every adapter into 1.0.0, and, through core's optional peer on
// @wf/storage-fs, core itself. Users of a 0.x library expect the minor: 0.1 -> 0.2, with the
// peer range moved to ^0.2.0. This script plans the release as changesets would, turns each
// such cascaded major of a 0.x package into a minor (a changeset naming the moved peer
// ranges, and each out-of-range peer range widened while changesets runs), runs
// `changeset version`, then sets each moved peer range to `^<new version>`.
// A major that a changeset asks for, or a dependent already at 1.0 or above, is left alone.
//
//   node scripts/version-packages.mjs          version the packages (instead of `changeset version`)
//   node scripts/version-packages.mjs --plan   print the versions it would give, change nothing
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
// Changesets' own planner, as `changeset version` runs it (dependencies of @changesets/cli).
const { default: assembleReleasePlan } = require("@changesets/assemble-release-plan");
const { default: readChangesets } = require("@changesets/read");
const { read: readConfig } = require("@changesets/config");
const { readPreState } = require("@changesets/pre");
const { getPackages } = require("@manypkg/get-packages");
const semver = require("semver");

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const planOnly = process.argv.includes("--plan");
// One generated changeset per dependent whose peer range moves; `changeset version` consumes it.
const GENERATED_PREFIX = "zz-0x-peer-range-";
const generatedId = (name) => `${GENERATED_PREFIX}${name.replace(/[^a-z0-9]+/gi, "-")}`;

const workspace = await getPackages(root);
const byName = new Map(workspace.packages.map((pkg) => [pkg.packageJson.name, pkg]));
const config = await readConfig(root, workspace);
const preState = await readPreState(root);
const changesets = await readChangesets(root);
const askedMajor = new Set(
  changesets
    .flatMap((changeset) => changeset.releases)
    .filter((release) => release.type === "major")
    .map((release) => release.name),
);
// A `fixed` or `linked` group shares its major: the group's members are asked it too.
for (const group of [...config.fixed, ...config.linked]) {
  if (group.some((name) => askedMajor.has(name))) for (const name of group) askedMajor.add(name);
}

// Planned in memory: each round widens, in the manifests changesets reads, the peer ranges a
// release leaves, and gives their dependents a minor, until no 0.x package is cascaded to a major.
/** Original peer ranges: dependent -> dependency -> range. */
const widened = new Map();
/** dependent -> dependency -> the version its peer range moves to. */
const moved = new Map();
const generated = () =>
  [...moved].map(([dependent, dependencies]) => ({
    id: generatedId(dependent),
    summary: `Peer dependency range moved to ${[...dependencies]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([dependency, version]) => `\`${dependency}\` ^${version}`)
      .join(", ")}.`,
    releases: [{ name: dependent, type: "minor" }],
  }));

let plan;
for (let round = 0; ; round++) {
  if (round > byName.size + 1) throw new Error("the release plan did not settle");
  plan = assembleReleasePlan([...changesets, ...generated()], workspace, config, preState);
  const cascaded = plan.releases.filter(
    (release) =>
      release.type === "major" &&
      semver.major(release.oldVersion) === 0 &&
      !askedMajor.has(release.name),
  );
  if (cascaded.length === 0) break;
  // The version each package should get: a cascaded major of a 0.x package is a minor.
  const intended = new Map(plan.releases.map((release) => [release.name, release.newVersion]));
  for (const release of cascaded) {
    intended.set(release.name, semver.inc(release.oldVersion, "minor"));
  }
  let changed = false;
  for (const [dependent, { packageJson }] of byName) {
    if (semver.major(packageJson.version) !== 0) continue;
    for (const [dependency, range] of Object.entries(packageJson.peerDependencies ?? {})) {
      const next = intended.get(dependency);
      if (!byName.has(dependency) || next === undefined || semver.satisfies(next, range)) continue;
      if (!widened.has(dependent)) widened.set(dependent, new Map());
      if (!widened.get(dependent).has(dependency)) widened.get(dependent).set(dependency, range);
      packageJson.peerDependencies[dependency] = `${range} || ^${next}`;
      if (!moved.has(dependent)) moved.set(dependent, new Map());
      moved.get(dependent).set(dependency, next);
      changed = true;
    }
  }
  if (!changed) throw new Error(`cannot avoid a major of ${cascaded.map((r) => r.name)}`);
}

for (const release of plan.releases.filter((r) => r.type !== "none")) {
  console.log(`${release.name}: ${release.oldVersion} -> ${release.newVersion} (${release.type})`);
}
for (const [dependent, dependencies] of moved) {
  const ranges = [...dependencies].map(([dependency, version]) => `${dependency} ^${version}`);
  console.log(`${dependent}: peer range moves to ${ranges.join(", ")}`);
}
if (planOnly) process.exit(0);

// Now on disk, for `changeset version`: the widened ranges and the generated changesets.
const manifestPath = (name) => join(byName.get(name).dir, "package.json");
const readManifest = (name) => JSON.parse(readFileSync(manifestPath(name), "utf8"));
const writeManifest = (name, manifest) =>
  writeFileSync(manifestPath(name), `${JSON.stringify(manifest, null, 2)}\n`);
const changesetPath = (id) => join(root, ".changeset", `${id}.md`);
function setPeerRanges(rangeOf) {
  for (const [dependent, dependencies] of widened) {
    const manifest = readManifest(dependent);
    for (const dependency of dependencies.keys()) {
      manifest.peerDependencies[dependency] = rangeOf(dependent, dependency);
    }
    writeManifest(dependent, manifest);
  }
}

try {
  setPeerRanges(
    (dependent, dependency) => byName.get(dependent).packageJson.peerDependencies[dependency],
  );
  for (const { id, summary, releases } of generated()) {
    const frontmatter = releases.map(({ name, type }) => `"${name}": ${type}`).join("\n");
    writeFileSync(changesetPath(id), `---\n${frontmatter}\n---\n\n${summary}\n`);
  }
  execFileSync("npx", ["changeset", "version"], { cwd: root, stdio: "inherit" });
  // Each moved peer range now names the version its dependency was given.
  setPeerRanges((_, dependency) => `^${readManifest(dependency).version}`);
} catch (error) {
  // Leave the tree as it was found: original ranges, no generated changesets.
  setPeerRanges((dependent, dependency) => widened.get(dependent).get(dependency));
  for (const { id } of generated()) rmSync(changesetPath(id), { force: true });
  throw error;
}
