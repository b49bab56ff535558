/**
 * How ids become parts of object keys. Every method applies core's id rule
 * first (`[A-Za-z0-9_.-]`, at most 128 characters, not `.`, `..` or
 * `__proto__`), so the ids that reach these codes are plain; the codes still
 * take any string, as defence in depth and so that keys written by earlier
 * versions, which allowed more, read back the same. Two codes, for two jobs:
 *
 * - `keySegment`: readable, for the run tree (`runs/{workflow}/{run}/`).
 *   Letters, digits, `_`, `.` and `-` stay as they are (every id the engine
 *   writes is made of them); any other character becomes `!` plus the
 *   uppercase hex of each of its UTF-8 bytes, and so does `!` itself. So the
 *   code is injective, never contains `/`, and is pure ASCII (no Unicode
 *   normalisation by a file-system-backed server can merge two ids). A
 *   segment that would read `.` or `..` has its dots escaped too, since
 *   servers that store keys as paths treat those specially.
 *
 * - `ascendingCode` / `descendingCode`: for the indexes, whose listings must
 *   come out in the order of the ids themselves (JavaScript string order,
 *   which `compareRunsNewestFirst` uses). Each UTF-16 code unit becomes two
 *   hex digits if below 0x80, else `8` and four hex digits: comparing codes
 *   compares the strings. The descending code swaps every digit d for 15-d
 *   and ends with `z`, which sorts after every digit, so a string sorts after
 *   its own extensions, as descending order wants.
 */
import { InvalidIdError } from "@wf/core";

/** Servers that store keys as files (MinIO, s3rver) allow 255 bytes per path segment. */
const MAX_SEGMENT_BYTES = 240;

const VERBATIM = /^[A-Za-z0-9_.-]$/;
const LONE_SURROGATE = /\p{Cs}/u;
const DESCENDING_END = "z";

const ADVICE = "Use an id that follows the id rule (see @wf/core's assertValidId).";

/** The readable, injective key segment for an id; InvalidIdError if it cannot be one. */
export function keySegment(id: unknown, kind: string): string {
  if (typeof id !== "string") {
    throw new InvalidIdError(kind, id, `expected a string, got ${typeof id}`, ADVICE);
  }
  if (id.length === 0) throw new InvalidIdError(kind, id, "it is empty", ADVICE);
  if (LONE_SURROGATE.test(id)) {
    throw new InvalidIdError(kind, id, "it is not well-formed UTF-16 (a lone surrogate)", ADVICE);
  }
  let segment = "";
  for (const char of id) {
    if (VERBATIM.test(char)) {
      segment += char;
      continue;
    }
    for (const byte of Buffer.from(char, "utf8")) {
      segment += `!${byte.toString(16).toUpperCase().padStart(2, "0")}`;
    }
  }
  if (segment === "." || segment === "..") segment = segment.replaceAll(".", "!2E");
  if (segment.length > MAX_SEGMENT_BYTES) {
    throw new InvalidIdError(
      kind,
      id,
      `its key segment would be ${segment.length} bytes, more than the ${MAX_SEGMENT_BYTES} S3-compatible servers reliably allow`,
      "Use a shorter id.",
    );
  }
  return segment;
}

/** Order-preserving code over [0-9a-f]: code(a) < code(b) exactly when a < b. */
export function ascendingCode(value: string): string {
  let code = "";
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    code +=
      unit < 0x80 ? unit.toString(16).padStart(2, "0") : `8${unit.toString(16).padStart(4, "0")}`;
  }
  return code;
}

/** Order-reversing code: code(a) < code(b) exactly when a > b; ends with `z`. */
export function descendingCode(value: string): string {
  return `${complement(ascendingCode(value))}${DESCENDING_END}`;
}

/** Reads an ascending code back. */
export function readAscending(code: string): string {
  let value = "";
  let at = 0;
  while (at < code.length) {
    const width = code[at] === "8" ? 5 : 2;
    const token = code.slice(at, at + width);
    const unit = Number.parseInt(width === 5 ? token.slice(1) : token, 16);
    if (token.length !== width || !/^[0-9a-f]+$/.test(token) || Number.isNaN(unit)) {
      throw new SyntaxError(`not an ascending code: ${code}`);
    }
    value += String.fromCharCode(unit);
    at += width;
  }
  return value;
}

/** Reads one descending code starting at `from`; returns the value and where the code ended. */
export function readDescending(code: string, from = 0): { value: string; end: number } {
  const stop = code.indexOf(DESCENDING_END, from);
  if (stop === -1) throw new SyntaxError(`not a descending code: ${code.slice(from)}`);
  return { value: readAscending(complement(code.slice(from, stop))), end: stop + 1 };
}

function complement(hex: string): string {
  let out = "";
  for (const digit of hex) out += (15 - Number.parseInt(digit, 16)).toString(16);
  return out;
}
