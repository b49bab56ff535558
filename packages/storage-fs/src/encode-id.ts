import { createHash } from "node:crypto";

/**
 * Ids reach the adapter as arbitrary strings, so each becomes one path
 * component that is safe on Linux, macOS and Windows alike:
 *
 * - Only `a-z`, `0-9`, `_` and `-` are kept as they are. Every other UTF-16
 *   code unit is escaped as `%hh` (below 0x100) or `%uhhhh`, in lowercase hex.
 *   The output is therefore all lowercase, so a case-insensitive file system
 *   cannot fold two ids into one (`Run` → `%52un`, `run` → `run`); no `.`,
 *   `/`, `\`, `:` or control character survives; and escaping code units
 *   rather than UTF-8 bytes keeps lone surrogates distinct.
 * - The caller adds a prefix (`w-`, `r-`), so no result is empty, starts with
 *   a dot, or is a reserved Windows device name (`CON`, `nul.txt`).
 * - Escaped ids longer than MAX_ENCODED_LENGTH are cut and suffixed with
 *   `%h` and the sha256 of the whole escaped id. `%h` never occurs in an
 *   escape, so a hashed name cannot equal an unhashed one.
 */
const MAX_ENCODED_LENGTH = 160;
/** Readable head kept in front of the hash of a long id. */
const HASHED_HEAD_LENGTH = 80;
const KEPT = /^[a-z0-9_-]$/;

function escapeId(id: string): string {
  let out = "";
  for (let i = 0; i < id.length; i++) {
    const char = id.charAt(i);
    if (KEPT.test(char)) {
      out += char;
      continue;
    }
    const unit = id.charCodeAt(i);
    out +=
      unit < 0x100
        ? `%${unit.toString(16).padStart(2, "0")}`
        : `%u${unit.toString(16).padStart(4, "0")}`;
  }
  return out;
}

/** The path-safe, injective form of `id`: at most MAX_ENCODED_LENGTH ASCII characters. */
export function encodeId(id: string): string {
  const escaped = escapeId(id);
  if (escaped.length <= MAX_ENCODED_LENGTH) return escaped;
  // Cut before an escape so the readable head does not end in half of one.
  let head = escaped.slice(0, HASHED_HEAD_LENGTH);
  const cut = head.lastIndexOf("%");
  if (cut > HASHED_HEAD_LENGTH - 6) head = head.slice(0, cut);
  const digest = createHash("sha256").update(escaped).digest("hex");
  return `${head}%h${digest}`;
}

const ESCAPE = /%u([0-9a-f]{4})|%([0-9a-f]{2})/g;

/**
 * The id `encoded` was made from, or undefined when it cannot be told: a
 * hashed long id, or a name encodeId never makes. Used only to name a run
 * whose own files are too damaged to say.
 */
export function decodeId(encoded: string): string | undefined {
  const id = encoded.replace(ESCAPE, (_, unit?: string, byte?: string) =>
    String.fromCharCode(Number.parseInt(unit ?? byte ?? "", 16)),
  );
  // The one canonical encoding of the result, or it was not an encoding.
  return encodeId(id) === encoded ? id : undefined;
}
