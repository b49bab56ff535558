import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { ChildFixture } from "@wf/test-services";
import { inject } from "vitest";
import type { RedisStorageLogger } from "../src/index.js";

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

export { sampleRun, sampleStep, seedRun } from "@wf/storage-conformance";
