import { createHash } from "node:crypto";

/**
 * A statement the server parses and plans once per connection (a named
 * prepared statement) and then only binds and executes: planning the
 * append's UPDATE-and-INSERT cost more than executing it. The name is a hash
 * of the text, so stores on different schemas sharing one pool never reuse
 * each other's names. Only the writes that reach rows by primary key are
 * named: the server may settle on one generic plan for a named statement,
 * built from the statistics of that moment, and for a read joining a run to
 * its steps a plan made while the tables were empty scans every step of the
 * run. Other statements are planned on each call, for their own parameters.
 */
export interface Statement {
  name: string;
  text: string;
}

function prepared(text: string): Statement {
  return { name: `wf_${createHash("sha256").update(text).digest("hex").slice(0, 24)}`, text };
}

/**
 * Every statement the store runs, for one schema (a quoted identifier, the
 * only thing spliced into the text). Ids, step numbers and records are
 * always parameters.
 */
export interface Statements {
  createRun: Statement;
  appendStep: Statement;
  /** Unnamed: planned for each group, whose size varies; the plan costs little per append. */
  appendSteps: string;
  headStep: Statement;
  getRun: string;
  getStep: string;
  getLatestStep: string;
  listSteps: string;
  listRuns(after: boolean): string;
  listRunsWithStatus(after: boolean): string;
  listWorkflows(after: boolean): string;
  deleteRun: Statement;
}

/** Columns that, with the stored JSON, make a RunMetadata. */
const RUN_COLUMNS = "metadata, head_step, status, updated_at";

export function statementsFor(s: string): Statements {
  return {
    // One statement, so one transaction: the run row and its first step are
    // written together or not at all. ON CONFLICT makes a racing create of
    // the same id wait for the winner, then insert nothing.
    createRun: prepared(`
      WITH created AS (
        INSERT INTO ${s}.runs
          (workflow_id, run_id, created_at, updated_at, status, head_step, metadata)
        VALUES ($1, $2, $3, $4, $5, $6::integer, $7)
        ON CONFLICT DO NOTHING
        RETURNING workflow_id, run_id
      )
      INSERT INTO ${s}.steps (workflow_id, run_id, step, record)
      SELECT workflow_id, run_id, $6::integer, $8 FROM created
      RETURNING step`),

    // The conditional append, in one statement: the head moves from n-1 to n
    // and step n is inserted only if that UPDATE matched. A racing writer
    // blocks on the row lock, re-reads the row once the winner commits, finds
    // head = n and matches nothing, so it inserts nothing. The primary key
    // on steps is the backstop against a duplicate.
    appendStep: prepared(`
      WITH advanced AS (
        UPDATE ${s}.runs
        SET head_step = $3::integer, status = $4, updated_at = $5
        WHERE workflow_id = $1 AND run_id = $2 AND head_step = $3::integer - 1
        RETURNING workflow_id, run_id
      )
      INSERT INTO ${s}.steps (workflow_id, run_id, step, record)
      SELECT workflow_id, run_id, $3::integer, $6 FROM advanced
      RETURNING step`),

    // Several appends to distinct runs, each with appendStep's own condition,
    // in one statement and one commit. Parameters are parallel arrays, sorted
    // by run, so that groups sharing runs mostly lock them in one order (the
    // store sends a group that deadlocked anyway again, one append at a time).
    // A run whose head is not step - 1 matches nothing in the UPDATE, so its
    // step is not inserted and is missing from the rows returned, while the
    // others go in.
    appendSteps: `
      WITH appended AS (
        SELECT * FROM unnest($1::text[], $2::text[], $3::integer[], $4::text[], $5::text[], $6::text[])
          AS appended (workflow_id, run_id, step, status, updated_at, record)
      ),
      advanced AS (
        UPDATE ${s}.runs
        SET head_step = appended.step, status = appended.status, updated_at = appended.updated_at
        FROM appended
        WHERE runs.workflow_id = appended.workflow_id AND runs.run_id = appended.run_id
          AND runs.head_step = appended.step - 1
        RETURNING runs.workflow_id, runs.run_id, appended.step, appended.record
      )
      INSERT INTO ${s}.steps (workflow_id, run_id, step, record)
      SELECT workflow_id, run_id, step, record FROM advanced
      RETURNING workflow_id, run_id`,

    // After an append matched nothing: RUN_NOT_FOUND or STEP_CONFLICT?
    headStep: prepared(`SELECT head_step FROM ${s}.runs WHERE workflow_id = $1 AND run_id = $2`),

    getRun: `SELECT ${RUN_COLUMNS} FROM ${s}.runs WHERE workflow_id = $1 AND run_id = $2`,

    // A row for the run, with a null record when it lacks the step; then, and
    // only then, the run's columns, to tell a step outside the run (not
    // found) from one missing between its first step and its head (damage).
    getStep: `
      SELECT steps.record,
             CASE WHEN steps.record IS NULL THEN runs.metadata END AS metadata,
             runs.head_step, runs.status, runs.updated_at
      FROM ${s}.runs
      LEFT JOIN ${s}.steps
        ON steps.workflow_id = runs.workflow_id AND steps.run_id = runs.run_id AND steps.step = $3
      WHERE runs.workflow_id = $1 AND runs.run_id = $2`,

    // Head and record in one snapshot: a concurrent append cannot split them.
    getLatestStep: `
      SELECT runs.head_step, steps.record
      FROM ${s}.runs
      LEFT JOIN ${s}.steps
        ON steps.workflow_id = runs.workflow_id AND steps.run_id = runs.run_id
       AND steps.step = runs.head_step
      WHERE runs.workflow_id = $1 AND runs.run_id = $2`,

    // The run's row (step null), then a keyset page of its steps after $3 up
    // to its head, in primary-key order: one statement, so one snapshot, in
    // which the page can be checked for holes against the head and the first
    // step the metadata names. The client tells the rows apart by step.
    listSteps: `
      SELECT NULL::integer AS step, NULL::text AS record, ${RUN_COLUMNS}
      FROM ${s}.runs WHERE workflow_id = $1 AND run_id = $2
      UNION ALL
      (SELECT steps.step, steps.record, NULL, NULL, NULL, NULL
       FROM ${s}.steps
       WHERE steps.workflow_id = $1 AND steps.run_id = $2 AND steps.step > $3
         AND steps.step <= (SELECT head_step FROM ${s}.runs WHERE workflow_id = $1 AND run_id = $2)
       ORDER BY steps.step
       LIMIT $4)`,

    // Keyset pages newest first from runs_newest_first. Parameters: workflow,
    // limit, then the last row's (created_at, run_id).
    listRuns(after) {
      return `
        SELECT run_id, created_at, ${RUN_COLUMNS} FROM ${s}.runs
        WHERE workflow_id = $1${after ? " AND (created_at, run_id) < ($3, $4)" : ""}
        ORDER BY created_at DESC, run_id DESC
        LIMIT $2`;
    },

    // A page of the runs with status $3 comes from runs_by_status_newest_first
    // (at most $2 = limit + 1 keys). The rows returned are every run between
    // the cursor and the page's last match, whatever their status, from
    // runs_newest_first, at most $4 of them: each is read once in the whole
    // listing, so a run whose row is damaged is reported on one page, whatever
    // the filter. `more` says whether matches go on past the last one.
    // Parameters: workflow, limit + 1, status, most rows, then the cursor.
    listRunsWithStatus(after) {
      const cursor = after ? " AND (created_at, run_id) < ($5, $6)" : "";
      return `
        WITH matching AS (
          SELECT created_at, run_id,
                 row_number() OVER (ORDER BY created_at DESC, run_id DESC) AS position
          FROM (SELECT created_at, run_id FROM ${s}.runs
                WHERE workflow_id = $1 AND status = $3${cursor}
                ORDER BY created_at DESC, run_id DESC
                LIMIT $2) page
        ),
        last_match AS (
          SELECT created_at, run_id FROM matching
          WHERE position = $2 - 1 AND EXISTS (SELECT 1 FROM matching WHERE position = $2)
        )
        SELECT run_id, created_at, ${RUN_COLUMNS}, EXISTS (SELECT 1 FROM last_match) AS more
        FROM ${s}.runs
        WHERE workflow_id = $1${cursor}
          AND (created_at, run_id) >= (COALESCE((SELECT created_at FROM last_match), ''),
                                       COALESCE((SELECT run_id FROM last_match), ''))
        ORDER BY created_at DESC, run_id DESC
        LIMIT $4`;
    },

    // Distinct workflow ids by skipping through the primary key (a loose
    // index scan): one index probe per id listed, however many runs each
    // workflow has. Parameters: limit, then the last id listed.
    listWorkflows(after) {
      return `
        WITH RECURSIVE ids(workflow_id) AS (
          (SELECT workflow_id FROM ${s}.runs
           ${after ? "WHERE workflow_id > $2" : ""}
           ORDER BY workflow_id LIMIT 1)
          UNION ALL
          SELECT (SELECT runs.workflow_id FROM ${s}.runs
                  WHERE runs.workflow_id > ids.workflow_id
                  ORDER BY runs.workflow_id LIMIT 1)
          FROM ids WHERE ids.workflow_id IS NOT NULL
        )
        SELECT workflow_id FROM ids WHERE workflow_id IS NOT NULL LIMIT $1`;
    },

    // Steps go with the run through ON DELETE CASCADE, in this statement's transaction.
    deleteRun: prepared(
      `DELETE FROM ${s}.runs WHERE workflow_id = $1 AND run_id = $2 RETURNING run_id`,
    ),
  };
}
