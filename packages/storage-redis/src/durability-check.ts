import type { RedisClient } from "./client.js";

/** Where the adapter reports a server configured to lose data. Default: `console`. */
export interface RedisStorageLogger {
  warn(message: string): void;
}

interface ServerSettings {
  appendOnly: boolean | null;
  /** RDB snapshot schedule (`save`), "" when off; null when unknown (CONFIG disabled). */
  save: string | null;
  evictionPolicy: string | null;
}

/** Servers already checked, per logger: the warning is logged once, not once per store. */
const checked = new WeakMap<RedisStorageLogger, Set<string>>();

/**
 * Warns once when the server would lose acknowledged steps: AOF off (a
 * restart loses everything since the last snapshot, or everything), or an
 * eviction policy that may drop run keys under memory pressure. Managed
 * servers often disable CONFIG, so INFO is the fallback; a server that
 * answers neither is not warned about, and the check never fails a call.
 */
export async function checkDurability(
  client: RedisClient,
  server: string,
  logger: RedisStorageLogger,
  expired: AbortSignal,
): Promise<void> {
  let servers = checked.get(logger);
  if (!servers) {
    servers = new Set();
    checked.set(logger, servers);
  }
  if (servers.has(server)) return;
  servers.add(server);
  let settings: ServerSettings;
  try {
    settings = await readSettings(client, expired);
  } catch {
    servers.delete(server);
    return;
  }
  for (const problem of problems(settings)) {
    try {
      logger.warn(`@wf/storage-redis: ${server}: ${problem}`);
    } catch {
      // A failing logger must not fail the storage call that triggered the check.
    }
  }
}

function problems({ appendOnly, save, evictionPolicy }: ServerSettings): string[] {
  const found: string[] = [];
  if (appendOnly === false) {
    found.push(
      save === ""
        ? 'persistence is off (appendonly no, save ""): a Redis restart loses every run. ' +
            "Set appendonly yes (appendfsync everysec or always)."
        : "AOF is off (appendonly no): a Redis restart loses every step written since the last RDB snapshot. " +
            "Set appendonly yes (appendfsync everysec or always).",
    );
  }
  if (evictionPolicy !== null && evictionPolicy !== "noeviction") {
    found.push(
      `maxmemory-policy is ${evictionPolicy}: under memory pressure Redis may evict run keys. ` +
        "Set maxmemory-policy noeviction.",
    );
  }
  return found;
}

async function readSettings(client: RedisClient, expired: AbortSignal): Promise<ServerSettings> {
  try {
    const [appendOnly, save, policy] = await Promise.all(
      ["appendonly", "save", "maxmemory-policy"].map(
        (name) => client.config("GET", name) as Promise<unknown[]>,
      ),
    );
    if (!appendOnly || appendOnly.length < 2) throw new Error("CONFIG GET answered nothing");
    return {
      appendOnly: appendOnly[1] === "yes",
      save: typeof save?.[1] === "string" ? save[1] : null,
      evictionPolicy: typeof policy?.[1] === "string" ? policy[1] : null,
    };
  } catch {
    // CONFIG renamed or refused: INFO tells whether AOF is on, not the RDB schedule.
    expired.throwIfAborted();
    const info = `${await client.info("persistence")}\n${await client.info("memory")}`;
    const field = (name: string) => new RegExp(`^${name}:(.*)$`, "m").exec(info)?.[1]?.trim();
    const aof = field("aof_enabled");
    return {
      appendOnly: aof === undefined ? null : aof === "1",
      save: null,
      evictionPolicy: field("maxmemory_policy") ?? null,
    };
  }
}
