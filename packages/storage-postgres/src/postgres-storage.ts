import {
  assertValidId,
  CorruptRecordError,
  type DamagedRun,
  type JsonValue,
  type ListRunsOptions,
  type ListStepsOptions,
  type Page,
  RunExistsError,
  type RunMetadata,
  RunNotFoundError,
  type RunPage,
  StepConflictError,
  StepNotFoundError,
  type StepRecord,
  type StorageCapabilities,
  StorageClosedError,
  StorageMisconfiguredError,
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
  MAX_PAGE_SIZE,
  type Outcome,
  type Queued,
  stepRecordJson,
} from "@wf/core/storage";
import { Connection } from "./connection.js";
import { asStorageError, STORAGE_NAME } from "./driver-errors.js";
import { assertKnownVersion, migrate, schemaVersion } from "./migrate.js";
import { LATEST_SCHEMA_VERSION } from "./migrations.js";
import {
  checkConnectionString,
  OPTION_KEYS,
  optionsFromUrl,
  type PostgresStorageOptions,
  resolveSettings,
  type Settings,
} from "./options.js";
import { type RunRow, runFromRow, stepFromText, stepLocation } from "./rows.js";
import { quoteSchema } from "./schema-name.js";
import { type Statements, statementsFor } from "./statements.js";
import { isStorableText } from "./storable-text.js";

const UNIQUE_VIOLATION = "23505";
const DEADLOCK_DETECTED = "40P01";
/** Most appends one group statement carries, and most record bytes (a larger record goes alone). */
const GROUP_ITEMS = 64;
const GROUP_BYTES = 1 << 20;
/** Step numbers live in `integer` columns. */
const MAX_STEP = 2_147_483_647;
/**
 * Most runs one page of a status-filtered listing reads. Matches of a rare
 * status can lie far apart, and every run between them is read (to report
 * damaged ones); past this many the page ends early, with a cursor, so no
 * call reads more rows than the largest unfiltered page.
 */
const SCAN_BUDGET = MAX_PAGE_SIZE;

/** A `runs` row as the listings read it. */
type ListedRun = RunRow & { run_id: string; created_at: string };

/** An append on its way: the record and its JSON text, serialised once. */
interface PendingAppend extends Queued {
  record: StepRecord;
  json: string;
}

/**
 * The journal in PostgreSQL: a `runs` row per run and a `steps` row per
 * record, in one schema. Each write is a single statement, so it commits
 * whole or not at all; the conditional append is an UPDATE of the head from
 * n-1 to n feeding the INSERT of step n. Appends that arrive while every
 * connection is busy go out together, each keeping its own condition
 * (GroupCommit of @wf/core/storage). See README.md for the schema.
 */
export class PostgresStorage implements WorkflowStorage {
  readonly capabilities: StorageCapabilities = { persistent: true, retention: false };
  /** The PostgreSQL schema holding the tables. */
  readonly schema: string;
  readonly #settings: Settings;
  readonly #quoted: string;
  readonly #sql: Statements;
  readonly #connection: Connection;
  readonly #appends: GroupCommit<PendingAppend>;
  #ready: Promise<void> | undefined;
  #closed = false;

  constructor(options: PostgresStorageOptions) {
    checkOptions("PostgresStorage", options, OPTION_KEYS);
    if (options === undefined) {
      throw new TypeError("PostgresStorage needs options: { connectionString } or { pool }.");
    }
    if (options.connectionString !== undefined) checkConnectionString(options.connectionString);
    this.#settings = resolveSettings(options);
    this.schema = this.#settings.schema;
    this.#quoted = quoteSchema(this.schema);
    this.#sql = statementsFor(this.#quoted);
    this.#connection = new Connection(options, this.#settings);
    this.#appends = new GroupCommit(
      { inFlight: this.#connection.size, items: GROUP_ITEMS, bytes: GROUP_BYTES },
      (appends) => this.#sendAppends(appends),
    );
  }

  /**
   * A store on the server `url` names, `postgres://user:password@host:port/database?schema=wf`
   * (or `postgresql://`): the URL is the connection string, and its `schema`
   * parameter the schema. `options` are the other options; one the URL
   * already sets (`schema`) is refused.
   */
  static fromUrl(
    url: string,
    options: Omit<PostgresStorageOptions, "connectionString" | "pool"> = {},
  ): PostgresStorage {
    const named = checkConnectionString(url).searchParams.has("schema") ? ["schema"] : [];
    checkFromUrlOptions("PostgresStorage", url, options, OPTION_KEYS, [
      "connectionString",
      "pool",
      ...named,
    ]);
    return new PostgresStorage(optionsFromUrl(url, options));
  }

  /**
   * Brings the schema up to date now (it is otherwise done on first use,
   * unless `autoMigrate` is false). Safe to run from many processes at once.
   * Resolves to the schema version reached.
   */
  async migrate(): Promise<number> {
    this.#assertOpen();
    try {
      const version = await migrate(this.#connection, this.#quoted, this.schema);
      this.#ready = Promise.resolve();
      return version;
    } catch (error) {
      throw asStorageError(error, this.schema);
    }
  }

  async createRun(run: RunMetadata, first: StepRecord): Promise<void> {
    this.#assertOpen();
    assertRunIds(run.workflowId, run.runId);
    if (first.step !== run.headStep) {
      throw new TypeError(`first.step (${first.step}) must equal run.headStep (${run.headStep})`);
    }
    if (!isStepNumber(run.headStep)) {
      throw new RangeError(
        `headStep must be an integer from 0 to ${MAX_STEP}, got ${run.headStep}`,
      );
    }
    const values = [
      run.workflowId,
      run.runId,
      run.createdAt,
      run.updatedAt,
      run.status,
      run.headStep,
      JSON.stringify(run),
      JSON.stringify(first),
    ];
    const rows = await this.#operation(() => this.#connection.query(this.#sql.createRun, values));
    if (rows.length === 0) throw new RunExistsError(run.workflowId, run.runId);
  }

  async appendStep(record: StepRecord): Promise<void> {
    this.#assertOpen();
    const { workflowId, runId, step } = record;
    assertRunIds(workflowId, runId);
    await this.#operation(async () => {
      // A step number no head can precede cannot be appended; only say why.
      if (!isStepNumber(step) || step < 1) throw await this.#whyNotAppended(record);
      const json = stepRecordJson(record);
      await this.#appends.submit({
        record,
        json,
        runKey: `${workflowId}/${runId}`,
        bytes: json.length,
      });
    });
  }

  /**
   * One outcome per append, in order. A lone append is one appendStep
   * statement; a group is one appendSteps statement, after which each
   * append that did not go in learns why on its own.
   */
  async #sendAppends(appends: PendingAppend[]): Promise<Outcome[]> {
    if (appends.length === 1) return [await this.#appendAlone(appends[0] as PendingAppend)];
    const sorted = [...appends].sort((a, b) =>
      a.runKey < b.runKey ? -1 : a.runKey > b.runKey ? 1 : 0,
    );
    let rows: { workflow_id: string; run_id: string }[];
    try {
      rows = await this.#connection.query(this.#sql.appendSteps, [
        sorted.map((append) => append.record.workflowId),
        sorted.map((append) => append.record.runId),
        sorted.map((append) => append.record.step),
        sorted.map((append) => append.record.status),
        sorted.map((append) => append.record.createdAt),
        sorted.map((append) => append.json),
      ]);
    } catch (error) {
      // A duplicate key (the backstop of a damaged head) or a deadlock with
      // another group fails the whole statement, which therefore wrote
      // nothing: each append goes again alone, to get its own answer.
      const code = (error as { code?: string }).code;
      if (code !== UNIQUE_VIOLATION && code !== DEADLOCK_DETECTED) throw error;
      return Promise.all(appends.map((append) => this.#appendAlone(append)));
    }
    const stored = new Set(rows.map((row) => `${row.workflow_id}/${row.run_id}`));
    return Promise.all(
      appends.map((append) =>
        stored.has(append.runKey) ? undefined : this.#whyNotAppended(append.record),
      ),
    );
  }

  async #appendAlone({ record, json }: PendingAppend): Promise<Outcome> {
    const values = [
      record.workflowId,
      record.runId,
      record.step,
      record.status,
      record.createdAt,
      json,
    ];
    try {
      const rows = await this.#connection.query(this.#sql.appendStep, values);
      if (rows.length === 1) return undefined;
    } catch (error) {
      // The primary key caught what the head check should have: still a conflict.
      if ((error as { code?: string }).code !== UNIQUE_VIOLATION) return error as Error;
    }
    return this.#whyNotAppended(record);
  }

  /** After an append that stored nothing: RUN_NOT_FOUND or STEP_CONFLICT (or why neither could be told). */
  async #whyNotAppended({ workflowId, runId, step }: StepRecord): Promise<Error> {
    try {
      const heads = await this.#connection.query<{ head_step: number }>(this.#sql.headStep, [
        workflowId,
        runId,
      ]);
      const head = heads[0];
      if (!head) return new RunNotFoundError(workflowId, runId);
      return new StepConflictError(workflowId, runId, step, head.head_step);
    } catch (error) {
      return error as Error;
    }
  }

  async getRun(workflowId: string, runId: string): Promise<RunMetadata> {
    this.#assertOpen();
    assertRunIds(workflowId, runId);
    const rows = await this.#operation(() =>
      this.#connection.query<RunRow>(this.#sql.getRun, [workflowId, runId]),
    );
    const row = rows[0];
    if (!row) throw new RunNotFoundError(workflowId, runId);
    return runFromRow(row, this.schema, workflowId, runId);
  }

  async getStep(workflowId: string, runId: string, step: number): Promise<StepRecord> {
    this.#assertOpen();
    assertRunIds(workflowId, runId);
    // -1 is never stored: a step number the column cannot hold is simply absent.
    const probe = isStepNumber(step) ? step : -1;
    const rows = await this.#operation(() =>
      this.#connection.query<Partial<RunRow> & { record: string | null }>(this.#sql.getStep, [
        workflowId,
        runId,
        probe,
      ]),
    );
    const row = rows[0];
    if (!row) throw new RunNotFoundError(workflowId, runId);
    if (row.record !== null) return stepFromText(row.record, this.schema, workflowId, runId, step);
    if (!isStepNumber(step)) throw new StepNotFoundError(workflowId, runId, step);
    const run = runFromRow(row as RunRow, this.schema, workflowId, runId);
    if (step < firstStep(run) || step > run.headStep) {
      throw new StepNotFoundError(workflowId, runId, step);
    }
    throw missingStep(this.schema, workflowId, runId, step);
  }

  async getLatestStep(workflowId: string, runId: string): Promise<StepRecord> {
    this.#assertOpen();
    assertRunIds(workflowId, runId);
    const rows = await this.#operation(() =>
      this.#connection.query<{ head_step: number; record: string | null }>(
        this.#sql.getLatestStep,
        [workflowId, runId],
      ),
    );
    const row = rows[0];
    if (!row) throw new RunNotFoundError(workflowId, runId);
    if (row.record === null) throw missingStep(this.schema, workflowId, runId, row.head_step);
    return stepFromText(row.record, this.schema, workflowId, runId, row.head_step);
  }

  async listSteps(
    workflowId: string,
    runId: string,
    options: ListStepsOptions = {},
  ): Promise<Page<StepRecord>> {
    this.#assertOpen();
    assertRunIds(workflowId, runId);
    const { limit, cursor } = checkListOptions(options);
    const after = cursor === null ? -1 : decodeCursor(cursor, isStepCursor);
    const rows = await this.#operation(() =>
      this.#connection.query<Partial<RunRow> & { step: number | null; record: string | null }>(
        this.#sql.listSteps,
        [workflowId, runId, after, limit + 1],
      ),
    );
    const runRow = rows.find((row) => row.step === null);
    if (!runRow) throw new RunNotFoundError(workflowId, runId);
    const run = runFromRow(runRow as RunRow, this.schema, workflowId, runId);
    // Sorted here so that nothing rests on the order UNION ALL happens to emit.
    const stored = rows
      .filter((row): row is typeof row & { step: number; record: string } => row.step !== null)
      .sort((a, b) => a.step - b.step);
    const page = stored.slice(0, limit);
    // Steps from the first one the run stores to its head are all there, or the journal is damaged.
    let expected = Math.max(after + 1, firstStep(run));
    const items = page.map((row) => {
      if (row.step > expected) throw missingStep(this.schema, workflowId, runId, expected);
      expected = Math.max(expected, row.step + 1);
      return stepFromText(row.record, this.schema, workflowId, runId, row.step);
    });
    const more = stored.length > limit;
    if (!more && expected <= run.headStep) {
      throw missingStep(this.schema, workflowId, runId, expected);
    }
    const last = items.at(-1);
    return { items, nextCursor: more && last ? encodeCursor(last.step) : null };
  }

  async listRuns(workflowId: string, options: ListRunsOptions = {}): Promise<RunPage> {
    this.#assertOpen();
    assertValidId(workflowId, "workflowId");
    const { limit, cursor, status } = checkListOptions(options);
    const after = cursor === null ? null : decodeCursor(cursor, isRunCursor);
    const keys = after ?? [];
    if (status === undefined) {
      const rows = await this.#operation(() =>
        this.#connection.query<ListedRun>(this.#sql.listRuns(after !== null), [
          workflowId,
          limit + 1,
          ...keys,
        ]),
      );
      const page = rows.slice(0, limit);
      return {
        ...this.#checkRuns(workflowId, page, undefined),
        nextCursor: nextRunCursor(page, rows.length > limit),
      };
    }
    // Every run between the cursor and the page's last match, whatever its
    // status, at most SCAN_BUDGET of them (see statements.ts).
    const rows = await this.#operation(() =>
      this.#connection.query<ListedRun & { more: boolean }>(
        this.#sql.listRunsWithStatus(after !== null),
        [workflowId, limit + 1, status, SCAN_BUDGET + 1, ...keys],
      ),
    );
    const window = rows.slice(0, SCAN_BUDGET);
    return {
      ...this.#checkRuns(workflowId, window, status),
      nextCursor: nextRunCursor(window, rows.length > SCAN_BUDGET || rows[0]?.more === true),
    };
  }

  async listWorkflows(options: ListStepsOptions = {}): Promise<Page<string>> {
    this.#assertOpen();
    const { limit, cursor } = checkListOptions(options);
    const after = cursor === null ? null : decodeCursor(cursor, isWorkflowCursor);
    const values = after === null ? [limit + 1] : [limit + 1, after];
    const rows = await this.#operation(() =>
      this.#connection.query<{ workflow_id: string }>(
        this.#sql.listWorkflows(after !== null),
        values,
      ),
    );
    const items = rows.slice(0, limit).map((row) => row.workflow_id);
    const last = items.at(-1);
    return {
      items,
      nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last) : null,
    };
  }

  async deleteRun(workflowId: string, runId: string): Promise<void> {
    this.#assertOpen();
    assertRunIds(workflowId, runId);
    // Reads nothing of the run first: a run whose rows are damaged is deleted all the same.
    const rows = await this.#operation(() =>
      this.#connection.query(this.#sql.deleteRun, [workflowId, runId]),
    );
    if (rows.length === 0) throw new RunNotFoundError(workflowId, runId);
  }

  /** Ends the pool the store opened (never one it was handed). Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#connection.end();
  }

  #assertOpen(): void {
    if (this.#closed) throw new StorageClosedError(STORAGE_NAME);
  }

  /** Runs `work` once the schema is ready, turning driver failures into WorkflowErrors. */
  async #operation<T>(work: () => Promise<T>): Promise<T> {
    try {
      await this.#schemaReady();
      return await work();
    } catch (error) {
      throw asStorageError(error, this.schema);
    }
  }

  /**
   * Checks the schema version once per store (a catalog query and a version
   * query when it is up to date) and migrates if needed. A failure is not remembered, so the
   * next call tries again: a server that comes back is used again.
   */
  #schemaReady(): Promise<void> {
    this.#ready ??= this.#prepareSchema().catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  async #prepareSchema(): Promise<void> {
    const { version, earlier } = await this.#connection.withClient((db) =>
      schemaVersion(db, this.#quoted, this.schema),
    );
    assertKnownVersion(version, this.schema);
    // A schema an earlier version set up is used as it is; migrating adopts its version table.
    if (version === LATEST_SCHEMA_VERSION && (!earlier || !this.#settings.autoMigrate)) return;
    if (!this.#settings.autoMigrate) {
      throw new StorageMisconfiguredError(
        STORAGE_NAME,
        `schema "${this.schema}" is at version ${version} and this version needs ` +
          `${LATEST_SCHEMA_VERSION}; run storage.migrate() (autoMigrate is off)`,
      );
    }
    await migrate(this.#connection, this.#quoted, this.schema);
  }

  /**
   * The page's runs, each checked: a healthy run with the status asked for
   * is an item, a damaged one (its metadata or bookkeeping columns) is
   * reported, whatever its status column says.
   */
  #checkRuns(
    workflowId: string,
    rows: ListedRun[],
    status: string | undefined,
  ): Omit<RunPage, "nextCursor"> {
    const items: RunMetadata[] = [];
    const damaged: DamagedRun[] = [];
    for (const row of rows) {
      try {
        const run = runFromRow(row, this.schema, workflowId, row.run_id);
        if (status === undefined || run.status === status) items.push(run);
      } catch (error) {
        if (!(error instanceof CorruptRecordError)) throw error;
        damaged.push({ runId: row.run_id, location: error.location, reason: error.reason });
      }
    }
    return { items, damaged };
  }
}

function isStepNumber(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= MAX_STEP;
}

/** The first step a run stores: 0, or the step it was forked from. */
function firstStep(run: RunMetadata): number {
  return run.forkedFrom?.step ?? 0;
}

/** A step between the run's first step and its head that has no row: the journal is damaged. */
function missingStep(
  schema: string,
  workflowId: string,
  runId: string,
  step: number,
): CorruptRecordError {
  return new CorruptRecordError(
    stepLocation(schema, workflowId, runId, step),
    "the row is missing, though the step lies between the run's first step and its head",
  );
}

/** A listSteps position: -1 (before the first step) up to what the column holds. */
function isStepCursor(position: JsonValue): position is number {
  return isStepPosition(position) && position <= MAX_STEP;
}

/** A listRuns position: `[created_at, run_id]` of a row, text PostgreSQL can hold. */
function isRunCursor(position: JsonValue): position is [string, string] {
  return isRunPosition(position) && isStorableText(position[0]) && isStorableText(position[1]);
}

/** A listWorkflows position: a workflow id as stored. */
function isWorkflowCursor(position: JsonValue): position is string {
  return isTextPosition(position) && isStorableText(position);
}

function nextRunCursor(rows: ListedRun[], more: boolean): string | null {
  const last = rows.at(-1);
  return more && last ? encodeCursor([last.created_at, last.run_id]) : null;
}
