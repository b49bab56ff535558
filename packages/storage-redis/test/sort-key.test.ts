// Index members sort, byte by byte as Redis compares them, in the order
// JavaScript compares the ids and times they encode (compareRunsNewestFirst).
import { compareRunsNewestFirst } from "@wf/core/storage";
import { describe, expect, it } from "vitest";
import { parseSortKey, sortKey } from "../src/sort-key.js";

const AWKWARD = [
  "",
  "a",
  "ab",
  "a\u0000",
  "a\u0001",
  "a\u0002",
  "a~",
  "a\u007f",
  "a\u0080",
  "a\ue000",
  "a\uffff",
  "a\ud83d\ude00",
  "a\ud800",
  "A",
  "Z",
  "_",
  "-",
  ".",
  "%",
  "{tag}",
  "2026-01-01T00:00:00.000Z",
  "2026-01-01T00:00:00.000Z0",
  "2026-01-01T00:00:00.001Z",
];

/** How Redis orders two members with equal scores: by their bytes. */
function redisOrder(a: string, b: string): number {
  return Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

function jsOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

describe("sort keys", () => {
  it("members of single values sort as JavaScript compares the values", () => {
    for (const a of AWKWARD) {
      for (const b of AWKWARD) {
        expect(
          redisOrder(sortKey(a), sortKey(b)),
          `${JSON.stringify(a)} vs ${JSON.stringify(b)}`,
        ).toBe(jsOrder(a, b));
      }
    }
  });

  it("members of (createdAt, runId) sort as compareRunsNewestFirst, reversed", () => {
    const runs = AWKWARD.slice(0, 12).flatMap((createdAt) =>
      AWKWARD.slice(8).map((runId) => ({ createdAt, runId })),
    );
    for (const a of runs) {
      for (const b of runs) {
        expect(redisOrder(sortKey(a.createdAt, a.runId), sortKey(b.createdAt, b.runId))).toBe(
          compareRunsNewestFirst(b, a),
        );
      }
    }
  });

  it("members are ASCII and parse back to their parts", () => {
    for (const a of AWKWARD) {
      const member = sortKey(a, "x");
      expect([...member].every((char) => char.charCodeAt(0) < 0x80)).toBe(true);
      expect(parseSortKey(member)).toEqual([a, "x"]);
    }
    expect(parseSortKey("unterminated")).toBeNull();
    expect(parseSortKey("\x7fzz\x00")).toBeNull();
  });
});
