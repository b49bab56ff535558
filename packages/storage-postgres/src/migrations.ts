/**
 * The schema's versions, oldest first. Each is applied once, in its own
 * transaction, by `migrate()`; the version reached is recorded in
 * `wf_schema_version`. Never edit a released migration: append a new one.
 *
 * Why `text` and not `jsonb` for records: jsonb cannot hold the string
 * "\u0000" (nor keep key order, duplicate keys or number spelling), and the
 * journal must return exactly what it was given. `text` keeps the exact JSON
 * text and checks nothing, so no server version can refuse a record the
 * engine produced. Cast `record::json` in ad hoc queries (not `::jsonb`).
 *
 * Why `COLLATE "C"` on ids and times: listings order by code point, the same
 * order on every server whatever its locale, and `created_at` (ISO-8601
 * text) sorts by time.
 */
export interface Migration {
  version: number;
  description: string;
  /** The DDL, for the schema given as a quoted identifier. */
  sql(schema: string): string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "runs and steps",
    sql: (s) => `
      CREATE TABLE ${s}.runs (
        workflow_id text COLLATE "C" NOT NULL,
        run_id      text COLLATE "C" NOT NULL,
        created_at  text COLLATE "C" NOT NULL,
        updated_at  text NOT NULL,
        status      text NOT NULL,
        head_step   integer NOT NULL,
        metadata    text NOT NULL,
        PRIMARY KEY (workflow_id, run_id)
      ) WITH (fillfactor = 80);
      COMMENT ON TABLE ${s}.runs IS
        'One row per run. metadata is the RunMetadata JSON as created; head_step, status and updated_at supersede its fields of the same name.';
      CREATE INDEX runs_newest_first ON ${s}.runs (workflow_id, created_at DESC, run_id DESC);
      CREATE INDEX runs_by_status_newest_first
        ON ${s}.runs (workflow_id, status, created_at DESC, run_id DESC);

      CREATE TABLE ${s}.steps (
        workflow_id text COLLATE "C" NOT NULL,
        run_id      text COLLATE "C" NOT NULL,
        step        integer NOT NULL,
        record      text NOT NULL,
        PRIMARY KEY (workflow_id, run_id, step),
        FOREIGN KEY (workflow_id, run_id) REFERENCES ${s}.runs ON DELETE CASCADE
      );
      COMMENT ON TABLE ${s}.steps IS
        'One row per stored step record; record is its exact JSON text. Append-only: rows leave only with their run.';
    `,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS.length;
