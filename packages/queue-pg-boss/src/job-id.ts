import { createHash } from "node:crypto";

/**
 * pg-boss job ids are UUIDs: the key's SHA-256 shaped as one (version 5
 * style), so every process derives the same id and pg-boss's insert of an
 * existing id is the dedupe.
 */
export function jobIdForKey(key: string): string {
  const hex = createHash("sha256").update(key).digest("hex").slice(0, 32).split("");
  hex[12] = "5";
  hex[16] = ((Number.parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16);
  const text = hex.join("");
  return `${text.slice(0, 8)}-${text.slice(8, 12)}-${text.slice(12, 16)}-${text.slice(16, 20)}-${text.slice(20)}`;
}
