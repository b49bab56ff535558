import {
  assertValidId,
  CorruptRecordError,
  type ListRunsOptions,
  type ListStepsOptions,
  type Page,
  RUN_STATUSES,
  RunExistsError,
  type RunMetadata,
  RunNotFoundError,
  type RunPage,
  type RunStatus,
  StepNotFoundError,
  type StepRecord,
  type StorageCapabilities,
  StorageClosedError,
  type WorkflowStorage,
} from "@wf/core";
import {
  assertRunIds,
  checkFromUrlOptions,
  checkListOptions,
  checkOptions,
  decodeCursor,
  encodeCursor,
  GroupCommit,
  isRunPosition,
  isStepPosition,
  isTextPosition,
  stepRecordJson,
} from "@wf/core/storage";
import type { Redis } from "ioredis";
import { type PendingAppend, sendAppends } from "./append-groups.js";
import {
  type CallProgress,
  type CallState,
  closeClient,
  deadlineError,
  onKey,
  openClient,
  type RedisClient,
  STORAGE_NAME,
  toStorageError,
  withDeadline,
} from "./client.js";
import { ConnectionGate } from "./connection-gate.js";
import { checkDurability, type RedisStorageLogger } from "./durability-check.js";
import { KeyLayout } from "./keys.js";
import {
  checkRedisUrl,
  DEFAULT_PREFIX,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_URL,
  OPTION_KEYS,
  optionsFromUrl,
  type RedisStorageOptions,
} from "./options.js";
import { hashFieldLocation, METADATA_FIELDS, readMetadata, readStep } from "./run-hash.js";
import { listRunsPage } from "./run-listing.js";
import { CREATE_RUN, DELETE_RUN, GET_STEP, LATEST_STEP, LIST_STEPS, LIVE_RUNS } from "./scripts.js";
import { parseSortKey, sortKey } from "./sort-key.js";

/**
 * Flights of appends out at once. While that many are out, further appends
 * queue and then leave together (GroupCommit of @wf/core/storage). Two rather than one: the
 * store prepares and sends the next group while Redis runs the previous
 * one, which measured a little faster at 64 concurrent runs; more only
 * splits the queue into smaller groups.
 */
export const APPENDS_IN_FLIGHT = 2;
/** Most appends one group carries, and most record bytes (a larger record goes alone). */
const GROUP_ITEMS = 64;
const GROUP_BYTES = 1 << 20;

/**
 * A journal store on Redis 6+ or Valkey, standalone or Cluster, with no
 * modules. See the package README for the key layout and durability.
 */
export class RedisStorage implements WorkflowStorage {
  readonly capabilities: StorageCapabilities = { persistent: true, retention: true };
  readonly #client: RedisClient;
  /** The client the adapter opened itself (from `url`), the only one `close()` ends. */
  readonly #ownClient: Redis | null;
  readonly #gate: ConnectionGate;
  /** How errors and warnings name the server. */
  readonly #server: string;
  readonly #keys: KeyLayout;
  /** 0: runs never expire. */
  readonly #ttlMs: number;
  readonly #timeoutMs: number;
  readonly #logger: RedisStorageLogger;
  readonly #appends: GroupCommit<PendingAppend>;
  #durabilityChecked = false;
  #closing: Promise<void> | null = null;

  constructor(options: RedisStorageOptions = {}) {
    checkOptions(STORAGE_NAME, options, OPTION_KEYS);
    const { url, client, ttlSeconds, timeoutMs = DEFAULT_TIMEOUT_MS } = options;
    if (url !== undefined && client !== undefined) {
      throw new TypeError("Give RedisStorage either `url` or `client`, not both.");
    }
    if (url !== undefined) checkRedisUrl(url, "refused");
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
    this.#gate = new ConnectionGate(this.#client, this.#server);
    this.#appends = new GroupCommit(
      { inFlight: APPENDS_IN_FLIGHT, items: GROUP_ITEMS, bytes: GROUP_BYTES },
      (appends) =>
        sendAppends({ client: this.#client, keys: this.#keys, ttlMs: this.#ttlMs }, appends),
    );
  }

  /**
   * A store on the server `url` names, `redis://user:password@host:port/db?prefix=wf:`
   * (`rediss://` for TLS); its `prefix` parameter is the key prefix.
   * `options` are the other options (`ttlSeconds`, `timeoutMs`, `logger`);
   * one the URL already sets (`prefix`) is refused.
   */
  static fromUrl(
    url: string,
    options: Omit<RedisStorageOptions, "url" | "client"> = {},
  ): RedisStorage {
    const named = checkRedisUrl(url, "allowed").searchParams.has("prefix") ? ["prefix"] : [];
    checkFromUrlOptions(STORAGE_NAME, url, options, OPTION_KEYS, ["url", "client", ...named]);
    return new RedisStorage(optionsFromUrl(url, options));
  }

  async createRun(run: RunMetadata, first: StepRecord): Promise<void> {
    this.#assertOpen();
    assertRunIds(run.workflowId, run.runId);
    assertRunIds(first.workflowId, first.runId);
    if (first.step !== run.headStep) {
      throw new TypeError(`first.step (${first.step}) must equal run.headStep (${run.headStep})`);
    }
    assertStepNumber(first.step);
    assertStatus(run.status);
    const keys = this.#keys.runKeys(run.workflowId, run.runId);
    const workflow = sortKey(run.workflowId);
    return this.#call(true, async (client) => {
      // The workflow index lives in another slot, so it cannot join the
      // script. Added before, a crash leaves at worst a listed workflow
      // without runs, which listWorkflows skips and drops; added again after,
      // it survives a listWorkflows or deleteRun dropping it meanwhile.
      await this.#addWorkflow(client, workflow);
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
      await this.#addWorkflow(client, workflow);
    });
  }

  /**
   * The conditional append, through group commit: alone when the client is
   * idle enough, else together with the appends that queued meanwhile (see
   * append-groups.ts). The record is serialised once, here.
   */
  async appendStep(record: StepRecord): Promise<void> {
    this.#assertOpen();
    const { workflowId, runId, step } = record;
    assertRunIds(workflowId, runId);
    assertStepNumber(step);
    assertStatus(record.status);
    const json = stepRecordJson(record);
    const runKey = this.#keys.runKey(workflowId, runId);
    return this.#call(
      true,
      (_client, call) =>
        this.#appends.submit({
          record,
          runKey,
          bytes: json.length,
          script: {
            runKey,
            step: String(step),
            json,
            status: record.status,
            updatedAt: record.createdAt,
          },
          call,
        }),
      { queued: true },
    );
  }

  async getRun(workflowId: string, runId: string): Promise<RunMetadata> {
    this.#assertOpen();
    assertRunIds(workflowId, runId);
    const key = this.#keys.runKey(workflowId, runId);
    return this.#call(false, async (client) => {
      let fields = await onKey(key, "hash", client.hmget(key, ...METADATA_FIELDS));
      // No metadata: absent, or created (or deleted) between the two calls, or
      // damaged. The key existing is news only if the metadata is still
      // missing on a second read: createRun writes it all at once.
      for (let read = 1; fields.every((field) => field === null) && read < 3; read++) {
        if (!(await client.exists(key))) throw new RunNotFoundError(workflowId, runId);
        fields = await onKey(key, "hash", client.hmget(key, ...METADATA_FIELDS));
      }
      return readMetadata(key, fields, { workflowId, runId });
    });
  }

  async getStep(workflowId: string, runId: string, step: number): Promise<StepRecord> {
    this.#assertOpen();
    assertRunIds(workflowId, runId);
    const key = this.#keys.runKey(workflowId, runId);
    return this.#call(false, async (client) => {
      const reply = (await GET_STEP.run(client, [key], [String(step)])) as
        | [string, string, string | null]
        | null;
      if (reply === null) throw new RunNotFoundError(workflowId, runId);
      const [head, first, text] = reply;
      if (!Number.isSafeInteger(step) || step < Number(first) || step > Number(head)) {
        throw new StepNotFoundError(workflowId, runId, step);
      }
      if (text === null) {
        throw new CorruptRecordError(
          hashFieldLocation(key, String(step)),
          `the step is missing below the run's head (${head})`,
        );
      }
      return readStep(key, text, { workflowId, runId, step });
    });
  }

  async getLatestStep(workflowId: string, runId: string): Promise<StepRecord> {
    this.#assertOpen();
    assertRunIds(workflowId, runId);
    const key = this.#keys.runKey(workflowId, runId);
    return this.#call(false, async (client) => {
      const reply = (await LATEST_STEP.run(client, [key], [])) as [string, string | null] | null;
      if (reply === null) throw new RunNotFoundError(workflowId, runId);
      const [head, text] = reply;
      if (text === null) {
        throw new CorruptRecordError(hashFieldLocation(key, head), "the head step is missing");
      }
      return readStep(key, text, { workflowId, runId, step: Number(head) });
    });
  }

  async listSteps(
    workflowId: string,
    runId: string,
    options: ListStepsOptions = {},
  ): Promise<Page<StepRecord>> {
    this.#assertOpen();
    assertRunIds(workflowId, runId);
    const { limit, cursor } = checkListOptions(options);
    const after = cursor === null ? -1 : decodeCursor(cursor, isStepPosition);
    const key = this.#keys.runKey(workflowId, runId);
    return this.#call(false, async (client) => {
      const reply = (await LIST_STEPS.run(client, [key], [after, limit])) as
        | [string, string, ...(string | null)[]]
        | null;
      if (reply === null) throw new RunNotFoundError(workflowId, runId);
      const [head, from, ...texts] = reply;
      const items = texts.map((text, i) => {
        const step = Number(from) + i;
        if (text === null) {
          throw new CorruptRecordError(
            hashFieldLocation(key, String(step)),
            `the step is missing below the run's head (${head})`,
          );
        }
        return readStep(key, text, { workflowId, runId, step });
      });
      const last = Number(from) + items.length - 1;
      return {
        items,
        nextCursor: items.length > 0 && last < Number(head) ? encodeCursor(last) : null,
      };
    });
  }

  async listRuns(workflowId: string, options: ListRunsOptions = {}): Promise<RunPage> {
    this.#assertOpen();
    assertValidId(workflowId, "workflowId");
    const { limit, cursor, status } = checkListOptions(options);
    const after = cursor === null ? null : decodeCursor(cursor, isRunPosition);
    return this.#call(false, (client) =>
      listRunsPage(client, this.#keys, { workflowId, limit, after, status }),
    );
  }

  async listWorkflows(options: ListStepsOptions = {}): Promise<Page<string>> {
    this.#assertOpen();
    const { limit, cursor } = checkListOptions(options);
    const after = cursor === null ? null : decodeCursor(cursor, isTextPosition);
    const index = this.#keys.workflows;
    return this.#call(false, async (client) => {
      let above = after === null ? "-" : `(${sortKey(after)}`;
      const found: string[] = [];
      for (;;) {
        const wanted = limit + 1 - found.length;
        const members = await onKey(
          index,
          "sorted set",
          client.zrangebylex(index, above, "+", "LIMIT", 0, wanted),
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

  async deleteRun(workflowId: string, runId: string): Promise<void> {
    this.#assertOpen();
    assertRunIds(workflowId, runId);
    const keys = this.#keys.runKeys(workflowId, runId);
    // The run's part of its index member, and a pattern finding the member
    // by it, for a run whose own `member` field is damaged.
    const runPart = sortKey(runId);
    const pattern = `*\x00${runPart.replace(/[*?[\]\\]/g, "\\$&")}`;
    return this.#call(true, async (client) => {
      const remaining = await DELETE_RUN.run(client, keys, [pattern, runPart]);
      if (remaining === -1) throw new RunNotFoundError(workflowId, runId);
      if (remaining === 0) await this.#dropWorkflowIfEmpty(client, workflowId);
    });
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#gate.detach();
      if (this.#ownClient) await closeClient(this.#ownClient, this.#timeoutMs);
    })();
    return this.#closing;
  }

  #assertOpen(): void {
    if (this.#closing) throw new StorageClosedError(STORAGE_NAME);
  }

  /**
   * Runs one storage call: refused after close, bounded by timeoutMs,
   * failures mapped to codes. Nothing is sent before the client has a ready
   * connection, so a call that fails before can say nothing was sent. A
   * `queued` call (an append waiting for its group) marks itself sent when
   * its group goes out, and is not sent once its deadline has passed.
   */
  async #call<T>(
    writes: boolean,
    work: (client: RedisClient, call: CallState) => Promise<T>,
    { queued = false }: { queued?: boolean } = {},
  ): Promise<T> {
    this.#assertOpen();
    const client = this.#client;
    const progress: CallProgress = { writes, sent: false };
    try {
      return await withDeadline(
        async (deadline) => {
          if (!this.#gate.ready) await this.#gate.open(deadline.signal);
          if (!this.#durabilityChecked) {
            this.#durabilityChecked = true;
            // Awaited (it never fails) so the warning comes before the first call's result.
            await checkDurability(client, this.#server, this.#logger, deadline.signal);
          }
          deadline.throwIfExpired();
          if (queued) progress.queued = true;
          else progress.sent = true;
          return work(client, { deadline, progress });
        },
        this.#timeoutMs,
        () => deadlineError(this.#server, this.#timeoutMs, progress),
      );
    } catch (error) {
      throw toStorageError(error, this.#server, progress);
    }
  }

  #addWorkflow(client: RedisClient, member: string): Promise<number> {
    const index = this.#keys.workflows;
    return onKey(index, "sorted set", client.zadd(index, 0, member));
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
    const index = this.#keys.workflows;
    await onKey(index, "sorted set", client.zrem(index, member));
    if ((await this.#liveRuns(client, workflowId)) > 0) await this.#addWorkflow(client, member);
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

/** How errors and warnings name the server: host and port, never the password. */
function describeServer(client: RedisClient): string {
  if (client.isCluster) return "Redis Cluster";
  const { host, port, path, db } = (client as Redis).options;
  return `Redis at ${path ?? `${host ?? "localhost"}:${port ?? 6379}`}${db ? `/${db}` : ""}`;
}
