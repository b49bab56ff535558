/** An unpaired UTF-16 surrogate: the UTF-8 sent to the server would replace it with U+FFFD. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Whether `value` is a string a `text` column holds as given: no NUL (which
 * PostgreSQL refuses) and no lone surrogate (which would silently become
 * another string). Ids never reach this far (the id rule refuses both); the
 * keys a cursor carries back are checked with it, so a forged cursor is
 * INVALID_CURSOR rather than a driver error.
 */
export function isStorableText(value: unknown): value is string {
  return typeof value === "string" && !value.includes("\u0000") && !LONE_SURROGATE.test(value);
}
