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
  StepConflictError,
  StepNotFoundError,
  type StepRecord,
  type StorageCapabilities,
  StorageClosedError,
  StorageUnavailableError,
  type WorkflowStorage,
} from "@wf/core";
import { Connection } from "./connection.js";
import { asStorageError, STORAGE_NAME } from "./driver-errors.js";
import { assertKnownVersion, migrate, schemaVersion } from "./migrate.js";
import { LATEST_SCHEMA_VERSION } from "./migrations.js";
import { type PostgresStorageOptions, resolveSettings, type Settings } from "./options.js";
import { type RunRow, runFromRow, stepFromText } from "./rows.js";
import { quoteSchema } from "./schema-name.js";
import { type Statements, statementsFor } from "./statements.js";
import { assertStorableId, isStorable } from "./stored-ids.js";

const UNIQUE_VIOLATION = "23505";
/** Step numbers live in `integer` columns. */
const MAX_STEP = 2_147_483_647;

/**
 * The journal in PostgreSQL: a `runs` row per run and a `steps` row per
 * record, in one schema. Each write is a single statement, so it commits
 * whole or not at all; the conditional append is an UPDATE of the head from
 * n-1 to n feeding the INSERT of step n. See README.md for the schema.
 */
export class PostgresStorage implements WorkflowStorage {
  readonly capabilities: StorageCapabilities = { persistent: true, retention: false };
  /** The PostgreSQL schema holding the tables. */
  readonly schema: string;
  readonly #settings: Settings;
  readonly #quoted: string;
  readonly #sql: Statements;
  readonly #connection: Connection;
  #ready: Promise<void> | undefined;
  #closed = false;

  constructor(options: PostgresStorageOptions) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError("PostgresStorage needs options: { connectionString } or { pool }.");
    }
    this.#settings = resolveSettings(options);
    this.schema = this.#settings.schema;
    this.#quoted = quoteSchema(this.schema);
    this.#sql = statementsFor(this.#quoted);
    this.#connection = new Connection(options, this.#settings);
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
      throw asStorageError(error);
    }
  }

  async createRun(run: RunMetadata, first: StepRecord): Promise<void> {
    this.#assertOpen();
    assertStorableId(run.workflowId, "workflowId");
    assertStorableId(run.runId, "runId");
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
    assertStorableId(workflowId, "workflowId");
    assertStorableId(runId, "runId");
    await this.#operation(async () => {
      // A step number no head can precede cannot be appended; only say why.
      if (isStepNumber(step) && step >= 1) {
        const values = [
          workflowId,
          runId,
          step,
          record.status,
          record.createdAt,
          JSON.stringify(record),
        ];
        try {
          const rows = await this.#connection.query(this.#sql.appendStep, values);
          if (rows.length === 1) return;
        } catch (error) {
          // The primary key caught what the head check should have: still a conflict.
          if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
        }
      }
      const heads = await this.#connection.query<{ head_step: number }>(this.#sql.headStep, [
        workflowId,
        runId,
      ]);
      const head = heads[0];
      if (!head) throw new RunNotFoundError(workflowId, runId);
      throw new StepConflictError(workflowId, runId, step, head.head_step);
    });
  }

  async getRun(workflowId: string, runId: string): Promise<RunMetadata> {
    this.#assertOpen();
    assertStorableId(workflowId, "workflowId");
    assertStorableId(runId, "runId");
    const rows = await this.#operation(() =>
      this.#connection.query<RunRow>(this.#sql.getRun, [workflowId, runId]),
    );
    const row = rows[0];
    if (!row) throw new RunNotFoundError(workflowId, runId);
    return runFromRow(row, this.#runLocation(workflowId, runId));
  }

  async getStep(workflowId: string, runId: string, step: number): Promise<StepRecord> {
    this.#assertOpen();
    assertStorableId(workflowId, "workflowId");
    assertStorableId(runId, "runId");
    // -1 is never stored: a step number the column cannot hold is simply absent.
    const probe = isStepNumber(step) ? step : -1;
    const rows = await this.#operation(() =>
      this.#connection.query<{ record: string | null }>(this.#sql.getStep, [
        workflowId,
        runId,
        probe,
      ]),
    );
    const row = rows[0];
    if (!row) throw new RunNotFoundError(workflowId, runId);
    if (row.record === null) throw new StepNotFoundError(workflowId, runId, step);
    return stepFromText(row.record, this.#stepLocation(workflowId, runId, step));
  }

  async getLatestStep(workflowId: string, runId: string): Promise<StepRecord> {
    this.#assertOpen();
    assertStorableId(workflowId, "workflowId");
    assertStorableId(runId, "runId");
    const rows = await this.#operation(() =>
      this.#connection.query<{ head_step: number; record: string | null }>(
        this.#sql.getLatestStep,
        [workflowId, runId],
      ),
    );
    const row = rows[0];
    if (!row) throw new RunNotFoundError(workflowId, runId);
    const location = this.#stepLocation(workflowId, runId, row.head_step);
    if (row.record === null) {
      throw new CorruptRecordError(location, "the run's head step is missing");
    }
    return stepFromText(row.record, location);
  }

  async listSteps(
    workflowId: string,
    runId: string,
    options: ListStepsOptions = {},
  ): Promise<Page<StepRecord>> {
    this.#assertOpen();
    assertStorableId(workflowId, "workflowId");
    assertStorableId(runId, "runId");
    const limit = pageSize(options.limit);
    const after = options.cursor ? stepCursor(options.cursor) : -1;
    const rows = await this.#operation(async () => {
      const page = await this.#connection.query<{ step: number; record: string }>(
        this.#sql.listSteps,
        [workflowId, runId, after, limit + 1],
      );
      if (page.length === 0) {
        const heads = await this.#connection.query(this.#sql.headStep, [workflowId, runId]);
        if (heads.length === 0) throw new RunNotFoundError(workflowId, runId);
      }
      return page;
    });
    const items = rows
      .slice(0, limit)
      .map((row) => stepFromText(row.record, this.#stepLocation(workflowId, runId, row.step)));
    const last = rows[limit - 1];
    return {
      items,
      nextCursor: rows.length > limit && last ? encodeCursor(last.step) : null,
    };
  }

  async listRuns(workflowId: string, options: ListRunsOptions = {}): Promise<Page<RunMetadata>> {
    this.#assertOpen();
    assertStorableId(workflowId, "workflowId");
    const limit = pageSize(options.limit);
    const after = options.cursor ? runCursor(options.cursor) : null;
    const { status } = options;
    // No run can have a status outside the list, as in the reference store.
    if (status !== undefined && !RUN_STATUSES.includes(status)) {
      return { items: [], nextCursor: null };
    }
    const values: unknown[] = [workflowId, limit + 1];
    if (status !== undefined) values.push(status);
    if (after) values.push(...after);
    const text = this.#sql.listRuns({ status: status !== undefined, after: after !== null });
    const rows = await this.#operation(() =>
      this.#connection.query<RunRow & { run_id: string; created_at: string }>(text, values),
    );
    const page = rows.slice(0, limit);
    const items = page.map((row) => runFromRow(row, this.#runLocation(workflowId, row.run_id)));
    const last = page.at(-1);
    return {
      items,
      nextCursor: rows.length > limit && last ? encodeCursor([last.created_at, last.run_id]) : null,
    };
  }

  async listWorkflows(options: ListStepsOptions = {}): Promise<Page<string>> {
    this.#assertOpen();
    const limit = pageSize(options.limit);
    const after = options.cursor ? workflowCursor(options.cursor) : null;
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
    assertStorableId(workflowId, "workflowId");
    assertStorableId(runId, "runId");
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
      throw asStorageError(error);
    }
  }

  /**
   * Checks the schema version once per store (one cheap query when it is up
   * to date) and migrates if needed. A failure is not remembered, so the
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
    const version = await this.#connection.withClient((db) => schemaVersion(db, this.#quoted));
    assertKnownVersion(version, this.schema);
    if (version === LATEST_SCHEMA_VERSION) return;
    if (!this.#settings.autoMigrate) {
      throw new StorageUnavailableError(
        STORAGE_NAME,
        `schema "${this.schema}" is at version ${version} and this version needs ` +
          `${LATEST_SCHEMA_VERSION}; run storage.migrate() (autoMigrate is off)`,
      );
    }
    await migrate(this.#connection, this.#quoted, this.schema);
  }

  #runLocation(workflowId: string, runId: string): string {
    return `${this.schema}.runs (workflow_id ${JSON.stringify(workflowId)}, run_id ${JSON.stringify(runId)})`;
  }

  #stepLocation(workflowId: string, runId: string, step: number): string {
    return `${this.schema}.steps (workflow_id ${JSON.stringify(workflowId)}, run_id ${JSON.stringify(runId)}, step ${step})`;
  }
}

function isStepNumber(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= MAX_STEP;
}

function notACursor(cursor: string): TypeError {
  return new TypeError(`Not a cursor returned by this storage: ${JSON.stringify(cursor)}`);
}

function stepCursor(cursor: string): number {
  const step = decodeCursor(cursor);
  if (!isStepNumber(step)) throw notACursor(cursor);
  return step;
}

function runCursor(cursor: string): [string, string] {
  const key = decodeCursor(cursor);
  if (
    !Array.isArray(key) ||
    key.length !== 2 ||
    typeof key[0] !== "string" ||
    typeof key[1] !== "string"
  ) {
    throw notACursor(cursor);
  }
  if (!isStorable(key[0]) || !isStorable(key[1])) throw notACursor(cursor);
  return [key[0], key[1]];
}

function workflowCursor(cursor: string): string {
  const key = decodeCursor(cursor);
  if (!isStorable(key)) throw notACursor(cursor);
  return key;
}
