// How ids become key parts: readable segments that are injective and stay inside their run, and index codes that sort like the ids.
import { compareRunsNewestFirst } from "@wf/core/storage";
import { describe, expect, it } from "vitest";
import {
  ascendingCode,
  descendingCode,
  keySegment,
  readAscending,
  readDescending,
} from "../src/id-codes.js";

const TRICKY = [
  "run-1",
  "Run-1",
  "a/b",
  "a!2Fb",
  "a%2Fb",
  "..",
  ".",
  "!2E",
  "!2E!2E",
  "...",
  "a b",
  "é",
  "e\u0301",
  "日本",
  "🎉",
  "a\\b",
  "*",
  "?",
  "\u0000",
  "trailing.",
];

/** A deterministic stream of awkward strings: ASCII, separators, BMP and astral characters. */
function* strings(count: number): Generator<string> {
  let seed = 42;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed;
  };
  const alphabet = [
    "a",
    "b",
    "Z",
    "0",
    "-",
    ".",
    "_",
    "/",
    "!",
    " ",
    "é",
    "日",
    "\u{1F389}",
    "\u007f",
    "\u0080",
  ];
  for (let i = 0; i < count; i++) {
    let value = "";
    const length = next() % 6;
    for (let j = 0; j < length; j++) value += alphabet[next() % alphabet.length];
    yield value;
  }
}

describe("key segments", () => {
  it("are injective, contain no '/', are never '.' or '..', and are plain ASCII", () => {
    const segments = TRICKY.map((id) => keySegment(id, "runId"));
    expect(new Set(segments).size).toBe(TRICKY.length);
    for (const segment of segments) {
      expect(segment).not.toContain("/");
      expect([".", ".."]).not.toContain(segment);
      expect(segment).toMatch(/^[\x21-\x7e]+$/);
    }
  });

  it("keep ids of the engine's alphabet as they are", () => {
    expect(keySegment("20260101_000000_000_0123456789ab", "runId")).toBe(
      "20260101_000000_000_0123456789ab",
    );
    expect(keySegment("orders.eu-west_2", "workflowId")).toBe("orders.eu-west_2");
  });

  it("refuse what cannot be a key segment with INVALID_ID", () => {
    for (const id of ["", "\ud800", "x".repeat(300), 42]) {
      expect(() => keySegment(id, "runId")).toThrow(
        expect.objectContaining({ code: "INVALID_ID" }),
      );
    }
  });
});

describe("index codes", () => {
  const samples = [...TRICKY, ...strings(400)];

  it("ascending codes sort exactly as the strings do, and read back", () => {
    for (const a of samples) {
      expect(readAscending(ascendingCode(a))).toBe(a);
      for (const b of samples.slice(0, 60)) {
        expect(ascendingCode(a) < ascendingCode(b)).toBe(a < b);
      }
    }
  });

  it("descending codes of createdAt then run id list runs newest first, as compareRunsNewestFirst does", () => {
    const runs = [...strings(300)].map((runId, i) => ({
      runId,
      createdAt: `2026-01-0${(i % 3) + 1}T00:00:00.00${i % 2}Z`,
    }));
    const byCode = [...runs].sort((a, b) => {
      const ka = descendingCode(a.createdAt) + descendingCode(a.runId);
      const kb = descendingCode(b.createdAt) + descendingCode(b.runId);
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
    expect(byCode).toEqual([...runs].sort(compareRunsNewestFirst));
    for (const run of runs) {
      const code = descendingCode(run.createdAt) + descendingCode(run.runId);
      const createdAt = readDescending(code);
      expect(createdAt.value).toBe(run.createdAt);
      expect(readDescending(code, createdAt.end)).toEqual({ value: run.runId, end: code.length });
    }
  });
});
