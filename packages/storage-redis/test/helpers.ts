import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { DamageTarget } from "@wf/storage-conformance";
import { ChildFixture } from "@wf/test-services";
import type { Cluster, Redis } from "ioredis";
import { inject } from "vitest";
import type { RedisStorageLogger } from "../src/index.js";
import { KeyLayout } from "../src/keys.js";

/** The Redis the test run shares (see global-setup.ts). */
export function redisUrl(): string {
  return inject("redisUrl");
}

/** A key prefix no other test uses, inside this run's prefix (so teardown removes it). */
export function uniquePrefix(label: string): string {
  return `${inject("redisPrefix")}${label}-${randomBytes(3).toString("hex")}:`;
}

/** A logger that keeps what it is told. */
export function recordingLogger(): RedisStorageLogger & { messages: string[] } {
  const messages: string[] = [];
  return { messages, warn: (message) => messages.push(message) };
}

/** A fixture script of test/fixtures in a child process (fixtures import the built dist). */
export class Fixture extends ChildFixture {
  constructor(script: string, args: string[] = []) {
    super(fileURLToPath(new URL(`./fixtures/${script}`, import.meta.url)), args);
  }
}

export {
  collectPages,
  rejection,
  sampleRun,
  sampleStep,
  seedRun,
} from "@wf/storage-conformance";

/**
 * The conformance damage hook: behind the store's back, puts `text` in the
 * run hash field holding the record's JSON (`run` for the metadata, the step
 * number for a step), or removes that field when `text` is null. The head,
 * status and index entries stay as they are.
 */
export async function damageRecord(
  raw: Redis | Cluster,
  prefix: string,
  { workflowId, runId, record }: DamageTarget,
  text: string | null,
): Promise<void> {
  const key = new KeyLayout(prefix).runKey(workflowId, runId);
  if (!(await raw.exists(key))) throw new Error(`no run ${runId} to damage at ${key}`);
  const field = record === "metadata" ? "run" : String(record);
  if (text === null) await raw.hdel(key, field);
  else await raw.hset(key, field, text);
}
