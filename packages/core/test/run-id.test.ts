// Run ids: UTC timestamp format, uniqueness, and ordering by creation time.
import { afterEach, describe, expect, it } from "vitest";
import { isValidId, newRunId, RUN_ID_PATTERN } from "../src/index.js";

describe("newRunId", () => {
  const originalTz = process.env.TZ;

  afterEach(() => {
    if (originalTz === undefined) delete process.env.TZ;
    else process.env.TZ = originalTz;
  });

  it("formats the creation time as YYYYMMDD_HHMMSS_mmm in UTC followed by 12 hex digits", () => {
    // A zone far from UTC, at a moment when its local date is already the next day.
    process.env.TZ = "Asia/Tokyo";
    const id = newRunId(new Date("2024-12-31T23:59:58.007Z"));

    expect(id).toMatch(/^20241231_235958_007_[0-9a-f]{12}$/);
    expect(id).toMatch(RUN_ID_PATTERN);
  });

  it("pads every field of the timestamp to its full width", () => {
    const id = newRunId(new Date("2003-02-04T05:06:07.008Z"));

    expect(id.slice(0, 19)).toBe("20030204_050607_008");
  });

  it("is a valid id for every store", () => {
    expect(isValidId(newRunId())).toBe(true);
  });

  it("makes 10,000 distinct ids in a tight loop, even within one millisecond", () => {
    const sameMoment = new Date("2024-06-01T12:00:00.000Z");
    const ids = new Set<string>();
    for (let i = 0; i < 10_000; i++) ids.add(newRunId(sameMoment));

    expect(ids.size).toBe(10_000);
    for (const id of ids) expect(id).toMatch(RUN_ID_PATTERN);
  });

  it("makes ids that sort by creation time across milliseconds, seconds, days and years", () => {
    const moments = [
      "2023-12-31T23:59:59.999Z",
      "2024-01-01T00:00:00.000Z",
      "2024-01-01T00:00:00.001Z",
      "2024-01-01T00:00:00.010Z",
      "2024-01-01T00:00:00.100Z",
      "2024-01-01T00:00:01.000Z",
      "2024-01-01T00:01:00.000Z",
      "2024-01-01T01:00:00.000Z",
      "2024-01-02T00:00:00.000Z",
      "2024-02-01T00:00:00.000Z",
      "2024-10-01T00:00:00.000Z",
    ];
    const inCreationOrder = moments.map((moment) => newRunId(new Date(moment)));
    const shuffled = [...inCreationOrder].reverse();
    shuffled.push(...shuffled.splice(0, 4));

    expect(shuffled.sort()).toEqual(inCreationOrder);
  });
});
