import { runOnce, typeErrorOf } from "@wf/storage-conformance/records";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { RedisStorage } from "../src/index.js";
import { Fixture, recordingLogger, redisUrl, uniquePrefix } from "./helpers.js";

describe("RedisStorage options", () => {
  it("refuses an unknown option, naming it, instead of writing under the default prefix", () => {
    expect(typeErrorOf(() => new RedisStorage({ url: redisUrl(), prefx: "x:" } as never))).toBe(
      'RedisStorage does not know the option "prefx"; it takes url, client, prefix, ttlSeconds, timeoutMs, logger.',
    );
  });

  it("refuses a URL string where the options object belongs, masking its password", () => {
    expect(typeErrorOf(() => new RedisStorage("redis://:hunter2@127.0.0.1:6390/5" as never))).toBe(
      'RedisStorage takes an options object, not a string ("redis://:***@127.0.0.1:6390/5"): use RedisStorage.fromUrl(url) or { url: url }.',
    );
  });

  it.each([
    [
      "http://:hunter2@127.0.0.1:6379",
      /is not a Redis URL; expected redis:\/\/\[user:password@\]host/,
    ],
    ["postgres://u:hunter2@127.0.0.1/db", /is not a Redis URL/],
    ["127.0.0.1:6379", /is not a Redis URL/],
    [
      "redis://:hunter2@127.0.0.1:6379/-1",
      /names database "-1", which is not a non-negative integer/,
    ],
    ["redis://:hunter2@127.0.0.1:6379/db1", /names database "db1"/],
    ["rediss://:hunter2@127.0.0.1:6379/1.5", /names database "1.5"/],
  ])("refuses %s up front, saying what form is expected", (url, expected) => {
    for (const build of [() => new RedisStorage({ url }), () => RedisStorage.fromUrl(url)]) {
      const message = typeErrorOf(build);
      expect(message).toMatch(expected);
      expect(message).not.toContain("hunter2");
    }
  });

  it("refuses ?prefix= in the url option, which only fromUrl reads", () => {
    expect(typeErrorOf(() => new RedisStorage({ url: `${redisUrl()}/?prefix=x:` }))).toMatch(
      /has a `prefix` parameter, which the `url` option does not read: use RedisStorage.fromUrl\(url\)/,
    );
  });
});

describe("RedisStorage.fromUrl", () => {
  it("journals a run in the db and under the prefix the URL names", async () => {
    const prefix = uniquePrefix("from-url");
    const url = new URL(redisUrl());
    url.pathname = "/3";
    url.searchParams.set("prefix", prefix);
    const storage = RedisStorage.fromUrl(url.href, { logger: recordingLogger() });
    const runId = await runOnce(storage);
    await storage.close();

    const plainUrl = new URL(redisUrl());
    plainUrl.pathname = "/3";
    const plain = new RedisStorage({ url: plainUrl.href, prefix, logger: recordingLogger() });
    try {
      expect((await plain.getLatestStep("from-url", runId)).shared).toEqual({ count: 1 });
    } finally {
      await plain.close();
    }
    const raw = new Redis(plainUrl.href);
    const db0 = new Redis(redisUrl());
    try {
      const pattern = `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`;
      const keys = await raw.keys(pattern);
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.every((key) => key.startsWith(prefix))).toBe(true);
      expect(await db0.keys(pattern)).toEqual([]);
      await raw.unlink(...keys);
    } finally {
      raw.disconnect();
      db0.disconnect();
    }
  });

  it("takes the other options, and refuses one the URL already sets and unknown ones", async () => {
    const url = `${redisUrl()}/?prefix=${uniquePrefix("twice")}`;
    const storage = RedisStorage.fromUrl(url, { ttlSeconds: 60, logger: recordingLogger() });
    await storage.close();
    expect(typeErrorOf(() => RedisStorage.fromUrl(url, { prefix: "other:" }))).toMatch(
      /already sets `prefix`; give it in the URL or in the options, not both/,
    );
    expect(
      typeErrorOf(() => RedisStorage.fromUrl(redisUrl(), { url: redisUrl() } as never)),
    ).toMatch(/already sets `url`/);
    expect(typeErrorOf(() => RedisStorage.fromUrl(redisUrl(), { ttl: 5 } as never))).toMatch(
      /does not know the option "ttl"/,
    );
  });
});

describe("an idle store", () => {
  it("does not keep the process alive without close()", async () => {
    const child = new Fixture("idle-exits.js", [redisUrl(), uniquePrefix("idle")]);
    await child.waitForLines(1);
    const exit = await Promise.race([
      child.exited,
      new Promise<"alive">((resolve) => setTimeout(() => resolve("alive"), 10_000)),
    ]);
    if (exit === "alive") child.child.kill("SIGKILL");
    expect(exit).toEqual({ code: 0, signal: null });
  });
});
