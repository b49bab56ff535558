// Flags: defaults, the environment, refusals that name the flag, and the
// round trip main relies on to give its workers its own configuration.
import { describe, expect, it } from "vitest";
import { redisConnection } from "../src/backend.js";
import { ConfigError, configToArgs, DEFAULTS, maskUrl, parseConfig } from "../src/config.js";

function config(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const parsed = parseConfig(argv, env);
  if (parsed.help) throw new Error("expected a configuration");
  return parsed.config;
}

describe("parseConfig", () => {
  it("gives the defaults, then the environment, then the flags", () => {
    expect(config([])).toEqual(DEFAULTS);
    expect(
      config([], { REDIS_URL: "redis://10.0.0.5:6380/2", WORKER_CONCURRENCY: "9" }),
    ).toMatchObject({
      redisUrl: "redis://10.0.0.5:6380/2",
      concurrency: 9,
    });
    expect(
      config(["--concurrency", "3", "--backend", "postgres", "--role", "worker"], {
        WORKER_CONCURRENCY: "9",
      }),
    ).toMatchObject({ concurrency: 3, backend: "postgres", role: "worker" });
    expect(parseConfig(["--help"])).toEqual({ help: true });
  });

  it("refuses what it cannot use, naming the flag and the form", () => {
    const refusal = (argv: string[]) => {
      try {
        parseConfig(argv, {});
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
      throw new Error(`accepted ${argv.join(" ")}`);
    };
    expect(refusal(["--backend", "mysql"])).toContain("--backend must be one of redis, postgres");
    expect(refusal(["--workers", "65"])).toContain("--workers must be an integer from 0 to 64");
    expect(refusal(["--port", "80a"])).toContain("--port");
    expect(refusal(["--redis-url", "http://x"])).toContain("--redis-url must start with redis://");
    expect(
      refusal(["--postgres-url", "postgres://u:secret@h/db", "--namespace", "Bad-Name"]),
    ).toContain("--namespace");
    expect(refusal(["--postgres-url", "mysql://u:secret@h/db"])).not.toContain("secret");
    expect(refusal(["--wokers", "2"])).toContain("--help");
  });

  it("gives workers the configuration main has", () => {
    const parent = config([
      "--backend",
      "postgres",
      "--postgres-url",
      "postgres://app@db.internal:5433/wf",
      "--namespace",
      "team_a",
      "--concurrency",
      "7",
      "--risk-url",
      "http://risk.internal/score",
      "--notify-url",
      "https://hooks.internal/approvals",
      "--risk-delay-ms",
      "10",
      "--sweep-interval-ms",
      "5000",
    ]);
    const child = config(configToArgs(parent));
    const { role, host, port, workers, ...shared } = parent;
    expect(child).toMatchObject(shared);
  });
});

describe("URLs", () => {
  it("masks passwords and turns a Redis URL into BullMQ connection options", () => {
    expect(maskUrl("redis://user:secret@host:6379/1")).toBe("redis://user:***@host:6379/1");
    expect(redisConnection("rediss://user:p%40ss@cache.internal:6390/3")).toEqual({
      host: "cache.internal",
      port: 6390,
      username: "user",
      password: "p@ss",
      db: 3,
      tls: {},
      maxRetriesPerRequest: null,
    });
    expect(() => redisConnection("redis://host/x")).toThrow("database number");
  });
});
