/**
 * Listing indexes are sorted sets whose members all score 0, so Redis orders
 * them by their bytes (ZRANGEBYLEX). A member is the concatenation of
 * order-preserving encodings of its parts, which makes the byte order of
 * members the order JavaScript's `<` gives the parts (UTF-16 code units,
 * what `compareRunsNewestFirst` and `Array#sort` use):
 *
 * - code units 0x02–0x7E stay as they are (ids and timestamps read plainly);
 * - 0x00 and 0x01 become `\x01` + 4 hex digits, sorting below them;
 * - 0x7F and above become `\x7F` + 4 hex digits, sorting above them;
 * - each part ends with `\x00`, below everything, so a part sorts before
 *   its own extensions and the next part only breaks ties.
 */
const END = "\x00";
const LOW = "\x01";
const HIGH = "\x7f";

function encodePart(part: string): string {
  let out = "";
  for (let i = 0; i < part.length; i++) {
    const unit = part.charCodeAt(i);
    if (unit >= 0x02 && unit <= 0x7e) out += part.charAt(i);
    else out += (unit < 0x02 ? LOW : HIGH) + unit.toString(16).padStart(4, "0");
  }
  return out + END;
}

/** The member for `parts`, e.g. `[createdAt, runId]`. */
export function sortKey(...parts: string[]): string {
  return parts.map(encodePart).join("");
}

/** The parts of a member written by `sortKey`; null if it is not one. */
export function parseSortKey(member: string): string[] | null {
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < member.length; i++) {
    const char = member.charAt(i);
    if (char === END) {
      parts.push(current);
      current = "";
    } else if (char === LOW || char === HIGH) {
      const hex = member.slice(i + 1, i + 5);
      if (!/^[0-9a-f]{4}$/.test(hex)) return null;
      current += String.fromCharCode(Number.parseInt(hex, 16));
      i += 4;
    } else {
      current += char;
    }
  }
  return current === "" ? parts : null;
}
