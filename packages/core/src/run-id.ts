import { randomBytes } from "node:crypto";

const pad = (value: number, width: number) => String(value).padStart(width, "0");

/**
 * A run id is the UTC creation time `YYYYMMDD_HHMMSS_mmm` plus 48 random bits,
 * so ids sort by creation time and two engines creating runs in the same
 * millisecond on different machines still do not collide.
 */
export function newRunId(now: Date = new Date()): string {
  const stamp =
    `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1, 2)}${pad(now.getUTCDate(), 2)}_` +
    `${pad(now.getUTCHours(), 2)}${pad(now.getUTCMinutes(), 2)}${pad(now.getUTCSeconds(), 2)}_` +
    pad(now.getUTCMilliseconds(), 3);
  return `${stamp}_${randomBytes(6).toString("hex")}`;
}

export const RUN_ID_PATTERN = /^\d{8}_\d{6}_\d{3}_[0-9a-f]{12}$/;
