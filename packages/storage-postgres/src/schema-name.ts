/**
 * The schema name is the one identifier that reaches SQL text (identifiers
 * cannot be bound as parameters), so it is held to a plain identifier and
 * then quoted as well: a name that passes cannot change the statement.
 */
const PLAIN_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Throws a TypeError for anything but a plain identifier outside the `pg_` namespace. */
export function assertSchemaName(schema: unknown): asserts schema is string {
  if (typeof schema !== "string" || !PLAIN_IDENTIFIER.test(schema)) {
    throw new TypeError(
      `Invalid schema ${JSON.stringify(String(schema)).slice(0, 80)}: use 1-63 letters, digits ` +
        "and '_', not starting with a digit.",
    );
  }
  if (schema.toLowerCase().startsWith("pg_")) {
    throw new TypeError(`Invalid schema "${schema}": names starting with pg_ are reserved.`);
  }
}

/** The schema as a quoted SQL identifier (case is kept, as PostgreSQL does for quoted names). */
export function quoteSchema(schema: string): string {
  assertSchemaName(schema);
  return `"${schema}"`;
}
