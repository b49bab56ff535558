import {
  CorruptRecordError,
  decodeCursor,
  encodeCursor,
  type ListRunsOptions,
  type ListStepsOptions,
  type Page,
  pageSize,
  RUN_STATUSES,
  RunExistsError,
  type RunMetadata,
  RunNotFoundError,
  type RunStatus,
  StepConflictError,
  StepNotFoundError,
  type StepRecord,
  type StorageCapabilities,
  StorageClosedError,
  type WorkflowStorage,
} from "@wf/core";
import type { Redis } from "ioredis";
import {
  closeClient,
  openClient,
  type RedisClient,
  STORAGE_NAME,
  toStorageError,
  withDeadline,
} from "./client.js";
import { checkDurability, type RedisStorageLogger } from "./durability-check.js";
import { KeyLayout } from "./keys.js";
import {
  DEFAULT_PREFIX,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_URL,
  type RedisStorageOptions,
} from "./options.js";
import {
  APPEND_STEP,
  CREATE_RUN,
  DELETE_RUN,
  DROP_STALE_ENTRY,
  LATEST_STEP,
  LIST_STEPS,
  LIVE_RUNS,
} from "./scripts.js";
import { parseSortKey, sortKey } from "./sort-key.js";

/** Hash fields getRun reads: the metadata as created, then the fields appends change. */
const METADATA_FIELDS = ["run", "head", "status", "updatedAt"] as const;

/**
 * A journal store on Redis 6+ or Valkey, standalone or Cluster, with no
 * modules. See the package README for the key layout and durability.
 */
export class RedisStorage implements WorkflowStorage {
  readonly capabilities: StorageCapabilities = { persistent: true, retention: true };
  readonly #client: RedisClient;
  /** The client the adapter opened itself (from `url`), the only one `close()` ends. */
  readonly #ownClient: Redis | null;
  /** How errors and warnings name the server. */
  readonly #server: string;
  readonly #keys: KeyLayout;
  /** 0: runs never expire. */
  readonly #ttlMs: number;
  readonly #timeoutMs: number;
  readonly #logger: RedisStorageLogger;
  #durabilityChecked = false;
  #closing: Promise<void> | null = null;

  constructor(options: RedisStorageOptions = {}) {
    const { url, client, ttlSeconds, timeoutMs = DEFAULT_TIMEOUT_MS } = options;
    if (url !== undefined && client !== undefined) {
      throw new TypeError("Give RedisStorage either `url` or `client`, not both.");
    }
    if (ttlSeconds !== undefined && !(ttlSeconds > 0 && Number.isFinite(ttlSeconds))) {
      throw new RangeError(`ttlSeconds must be a positive number, got ${ttlSeconds}`);
    }
    if (!(timeoutMs > 0 && Number.isFinite(timeoutMs))) {
      throw new RangeError(`timeoutMs must be a positive number, got ${timeoutMs}`);
    }
    this.#keys = new KeyLayout(options.prefix ?? DEFAULT_PREFIX);
    this.#ttlMs = ttlSeconds === undefined ? 0 : Math.ceil(ttlSeconds * 1000);
    this.#timeoutMs = timeoutMs;
    this.#logger = options.logger ?? console;
    this.#ownClient = client === undefined ? openClient(url ?? DEFAULT_URL, timeoutMs) : null;
    this.#client = client ?? (this.#ownClient as Redis);
    this.#server = describeServer(this.#client);
  }

  createRun(run: RunMetadata, first: StepRecord): Promise<void> {
    return this.#call(async (client) => {
      const keys = this.#keys.runKeys(run.workflowId, run.runId);
      if (first.step !== run.headStep) {
        throw new TypeError(`first.step (${first.step}) must equal run.headStep (${run.headStep})`);
      }
      assertStepNumber(first.step);
      assertStatus(run.status);
      const workflow = sortKey(run.workflowId);
      // The workflow index lives in another slot, so it cannot join the
      // script. Added before, a crash leaves at worst a listed workflow
      // without runs, which listWorkflows skips and drops; added again after,
      // it survives a listWorkflows or deleteRun dropping it meanwhile.
      await client.zadd(this.#keys.workflows, 0, workflow);
      const created = await CREATE_RUN.run(client, keys, [
        sortKey(run.createdAt, run.runId),
        JSON.stringify(run),
        String(run.headStep),
        JSON.stringify(first),
        run.status,
        run.updatedAt,
        this.#ttlMs,
      ]);
      if (created === 0) throw new RunExistsError(run.workflowId, run.runId);
      await client.zadd(this.#keys.workflows, 0, workflow);
    });
  }

  appendStep(record: StepRecord): Promise<void> {
    return this.#call(async (client) => {
      const { workflowId, runId, step } = record;
      const keys = this.#keys.runKeys(workflowId, runId);
      assertStepNumber(step);
      assertStatus(record.status);
      const reply = (await APPEND_STEP.run(client, keys, [
        String(step),
        JSON.stringify(record),
        record.status,
        record.createdAt,
        this.#ttlMs,
      ])) as [number, string?];
      if (reply[0] === 0) throw new RunNotFoundError(workflowId, runId);
      if (reply[0] === 1) throw new StepConflictError(workflowId, runId, step, Number(reply[1]));
    });
  }

  getRun(workflowId: string, runId: string): Promise<RunMetadata> {
    return this.#call(async (client) => {
      const key = this.#keys.runKey(workflowId, runId);
      const fields = await client.hmget(key, ...METADATA_FIELDS);
      if (fields[0] === null) throw new RunNotFoundError(workflowId, runId);
      return readMetadata(key, fields);
    });
  }

  getStep(workflowId: string, runId: string, step: number): Promise<StepRecord> {
    return this.#call(async (client) => {
      const key = this.#keys.runKey(workflowId, runId);
      const [head, text] = await client.hmget(key, "head", String(step));
      if (head === null || head === undefined) throw new RunNotFoundError(workflowId, runId);
      if (text === null || text === undefined || !Number.isSafeInteger(step)) {
        throw new StepNotFoundError(workflowId, runId, step);
      }
      return parseRecord<StepRecord>(text, `${key} field ${step}`);
    });
  }

  getLatestStep(workflowId: string, runId: string): Promise<StepRecord> {
    return this.#call(async (client) => {
      const key = this.#keys.runKey(workflowId, runId);
      const reply = (await LATEST_STEP.run(client, [key], [])) as [string, string?] | null;
      if (reply === null) throw new RunNotFoundError(workflowId, runId);
      const [head, text] = reply;
      if (text === undefined || text === null) {
        throw new CorruptRecordError(`${key} field ${head}`, "the head step is missing");
      }
      return parseRecord<StepRecord>(text, `${key} field ${head}`);
    });
  }

  listSteps(
    workflowId: string,
    runId: string,
    options: ListStepsOptions = {},
  ): Promise<Page<StepRecord>> {
    return this.#call(async (client) => {
      const key = this.#keys.runKey(workflowId, runId);
      const limit = pageSize(options.limit);
      const after = options.cursor ? stepCursor(options.cursor) : -1;
      const reply = (await LIST_STEPS.run(client, [key], [after, limit])) as
        | [string, string, ...(string | null)[]]
        | null;
      if (reply === null) throw new RunNotFoundError(workflowId, runId);
      const [head, from, ...texts] = reply;
      const items = texts.map((text, i) => {
        const location = `${key} field ${Number(from) + i}`;
        if (text === null)
          throw new CorruptRecordError(location, "a step below the head is missing");
        return parseRecord<StepRecord>(text, location);
      });
      const last = Number(from) + items.length - 1;
      return {
        items,
        nextCursor: items.length > 0 && last < Number(head) ? encodeCursor(last) : null,
      };
    });
  }

  listRuns(workflowId: string, options: ListRunsOptions = {}): Promise<Page<RunMetadata>> {
    return this.#call(async (client) => {
      const { status } = options;
      const index = this.#keys.listingKey(workflowId, status);
      const limit = pageSize(options.limit);
      const after = options.cursor ? runCursor(options.cursor) : null;
      let below = after ? `(${sortKey(...after)}` : "+";
      const found: RunMetadata[] = [];
      // Newest first is descending member order. Entries of expired or
      // re-created runs are dropped as they are met, so a page may take a
      // few rounds; each round moves strictly down the index.
      for (;;) {
        const wanted = limit + 1 - found.length;
        const members = await client.zrevrangebylex(index, below, "-", "LIMIT", 0, wanted);
        const runs = await Promise.all(members.map((m) => this.#indexedRun(client, workflowId, m)));
        for (const run of runs) {
          if (run && (status === undefined || run.status === status)) found.push(run);
        }
        const lowest = members.at(-1);
        if (lowest === undefined || members.length < wanted || found.length > limit) break;
        below = `(${lowest}`;
      }
      const items = found.slice(0, limit);
      const last = items.at(-1);
      return {
        items,
        nextCursor:
          found.length > limit && last ? encodeCursor([last.createdAt, last.runId]) : null,
      };
    });
  }

  listWorkflows(options: ListStepsOptions = {}): Promise<Page<string>> {
    return this.#call(async (client) => {
      const limit = pageSize(options.limit);
      const after = options.cursor ? workflowCursor(options.cursor) : null;
      let above = after === null ? "-" : `(${sortKey(after)}`;
      const found: string[] = [];
      for (;;) {
        const wanted = limit + 1 - found.length;
        const members = await client.zrangebylex(
          this.#keys.workflows,
          above,
          "+",
          "LIMIT",
          0,
          wanted,
        );
        const ids = members.flatMap((member) => {
          const parts = parseSortKey(member);
          return parts?.length === 1 ? parts : [];
        });
        const live = await Promise.all(ids.map((id) => this.#liveRuns(client, id)));
        for (const [i, id] of ids.entries()) {
          if ((live[i] as number) > 0) found.push(id);
          else await this.#dropWorkflowIfEmpty(client, id);
        }
        const highest = members.at(-1);
        if (highest === undefined || members.length < wanted || found.length > limit) break;
        above = `(${highest}`;
      }
      const items = found.slice(0, limit);
      const last = items.at(-1);
      return {
        items,
        nextCursor: found.length > limit && last !== undefined ? encodeCursor(last) : null,
      };
    });
  }

  deleteRun(workflowId: string, runId: string): Promise<void> {
    return this.#call(async (client) => {
      const remaining = await DELETE_RUN.run(client, this.#keys.runKeys(workflowId, runId), []);
      if (remaining === -1) throw new RunNotFoundError(workflowId, runId);
      if (remaining === 0) await this.#dropWorkflowIfEmpty(client, workflowId);
    });
  }

  close(): Promise<void> {
    this.#closing ??= this.#ownClient
      ? closeClient(this.#ownClient, this.#timeoutMs)
      : Promise.resolve();
    return this.#closing;
  }

  /** Runs one storage call: refused after close, bounded by timeoutMs, failures mapped to codes. */
  async #call<T>(work: (client: RedisClient) => Promise<T>): Promise<T> {
    if (this.#closing) throw new StorageClosedError(STORAGE_NAME);
    const client = this.#client;
    const checkFirst = !this.#durabilityChecked;
    this.#durabilityChecked = true;
    try {
      return await withDeadline(async (expired) => {
        // Awaited (it never fails) so the warning comes before the first call's result.
        if (checkFirst) await checkDurability(client, this.#server, this.#logger, expired);
        expired.throwIfAborted();
        return work(client);
      }, this.#timeoutMs);
    } catch (error) {
      throw toStorageError(error, `${this.#keys.prefix}* on ${this.#server}`);
    }
  }

  /** The metadata an index entry points at, or null (dropping the entry) if it is stale. */
  async #indexedRun(
    client: RedisClient,
    workflowId: string,
    member: string,
  ): Promise<RunMetadata | null> {
    const parts = parseSortKey(member);
    if (parts?.length !== 2) return null;
    const keys = this.#keys.runKeys(workflowId, parts[1] as string);
    const fields = await client.hmget(keys[0], ...METADATA_FIELDS, "member");
    if (fields[0] !== null && fields[4] === member) return readMetadata(keys[0], fields);
    await DROP_STALE_ENTRY.run(client, keys, [member]);
    return null;
  }

  async #liveRuns(client: RedisClient, workflowId: string): Promise<number> {
    return Number(await LIVE_RUNS.run(client, this.#keys.indexKeys(workflowId), []));
  }

  /**
   * Drops a workflow without live runs from the workflow index, then checks
   * again and puts it back if a run was created meanwhile (createRun adds it
   * after its script, so either that add or this check sees the new run).
   */
  async #dropWorkflowIfEmpty(client: RedisClient, workflowId: string): Promise<void> {
    const member = sortKey(workflowId);
    await client.zrem(this.#keys.workflows, member);
    if ((await this.#liveRuns(client, workflowId)) > 0) {
      await client.zadd(this.#keys.workflows, 0, member);
    }
  }
}

function assertStepNumber(step: unknown): void {
  if (typeof step !== "number" || !Number.isSafeInteger(step) || step < 0) {
    throw new TypeError(`step must be a non-negative integer, got ${String(step)}`);
  }
}

function assertStatus(status: unknown): asserts status is RunStatus {
  if (!RUN_STATUSES.includes(status as RunStatus)) {
    throw new TypeError(`status must be one of ${RUN_STATUSES.join(", ")}, got ${String(status)}`);
  }
}

function parseRecord<T>(text: string, location: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CorruptRecordError(location, "it is not JSON", { cause: error });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new CorruptRecordError(location, "it is not a JSON object");
  }
  return value as T;
}

/** The metadata as created, with the fields appends advance (head, status, updatedAt). */
function readMetadata(key: string, fields: (string | null)[]): RunMetadata {
  const [text, head, status, updatedAt] = fields;
  const run = parseRecord<RunMetadata>(text ?? "", `${key} field run`);
  run.headStep = Number(head);
  run.status = status as RunStatus;
  run.updatedAt = updatedAt as string;
  return run;
}

function stepCursor(cursor: string): number {
  const step = decodeCursor(cursor);
  if (typeof step !== "number" || !Number.isSafeInteger(step)) throw badCursor(cursor);
  return step;
}

function runCursor(cursor: string): [string, string] {
  const position = decodeCursor(cursor);
  if (
    !Array.isArray(position) ||
    position.length !== 2 ||
    !position.every((part) => typeof part === "string")
  ) {
    throw badCursor(cursor);
  }
  return position as [string, string];
}

function workflowCursor(cursor: string): string {
  const workflowId = decodeCursor(cursor);
  if (typeof workflowId !== "string") throw badCursor(cursor);
  return workflowId;
}

function badCursor(cursor: string): TypeError {
  return new TypeError(`Not a cursor returned by this storage: ${JSON.stringify(cursor)}`);
}

/** How warnings name the server: host and port, never the password. */
function describeServer(client: RedisClient): string {
  if (client.isCluster) return "Redis Cluster";
  const { host, port, path, db } = (client as Redis).options;
  return `${path ?? `${host ?? "localhost"}:${port ?? 6379}`}${db ? `/${db}` : ""}`;
}
