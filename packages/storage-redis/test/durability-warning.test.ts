// The one-time warning about a server that would lose acknowledged steps:
// persistence off, AOF off with CONFIG disabled (read from INFO instead), an
// evicting maxmemory-policy; and silence for a durable configuration.
import { type PrivateRedis, type StartRedisOptions, startRedis } from "@wf/test-services/redis";
import { afterEach, describe, expect, it } from "vitest";
import { RedisStorage } from "../src/index.js";
import { recordingLogger } from "./helpers.js";

describe("durability warning", () => {
  let server: PrivateRedis | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  /** The messages logged while two stores on one logger make their first calls. */
  async function warningsFor(config: StartRedisOptions["config"]): Promise<string[]> {
    server = await startRedis({ config });
    const logger = recordingLogger();
    for (let i = 0; i < 2; i++) {
      const storage = new RedisStorage({ url: server.url, logger });
      await storage.listWorkflows();
      await storage.listWorkflows();
      await storage.close();
    }
    return logger.messages;
  }

  it("a server with persistence off is warned about once, saying what to set", async () => {
    const messages = await warningsFor({ appendonly: "no", save: "" });
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain("persistence is off");
    expect(messages[0]).toContain("appendonly yes");
  });

  it("with CONFIG disabled, AOF being off is read from INFO and warned about", async () => {
    const messages = await warningsFor({ "rename-command": ["CONFIG", ""] });
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain("AOF is off");
  });

  it("an evicting maxmemory-policy is warned about", async () => {
    const messages = await warningsFor({ appendonly: "yes", "maxmemory-policy": "allkeys-lru" });
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain("maxmemory-policy is allkeys-lru");
  });

  it("a server with AOF on and noeviction is not warned about", async () => {
    expect(await warningsFor({ appendonly: "yes", appendfsync: "everysec" })).toEqual([]);
  });
});
