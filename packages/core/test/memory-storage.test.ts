// MemoryStorage specifics the conformance suite does not cover: option validation and repeated close.
import { describe, expect, it } from "vitest";
import { MemoryStorage, StorageClosedError } from "../src/index.js";

describe("MemoryStorage", () => {
  it.each([0, -1, Number.NaN, Number.NEGATIVE_INFINITY])(
    "refuses ttlSeconds %s with a RangeError",
    (ttlSeconds) => {
      expect(() => new MemoryStorage({ ttlSeconds })).toThrow(RangeError);
    },
  );

  it("accepts a positive ttlSeconds, fractional or not", async () => {
    for (const ttlSeconds of [1, 0.5, 86_400]) {
      const storage = new MemoryStorage({ ttlSeconds });
      await expect(storage.listWorkflows()).resolves.toEqual({ items: [], nextCursor: null });
    }
  });

  it("can be closed twice, and stays closed", async () => {
    const storage = new MemoryStorage();

    await expect(storage.close()).resolves.toBeUndefined();
    await expect(storage.close()).resolves.toBeUndefined();

    await expect(storage.listWorkflows()).rejects.toThrow(StorageClosedError);
    await expect(storage.getRun("w", "r")).rejects.toMatchObject({ code: "STORAGE_CLOSED" });
  });

  it("declares itself non-persistent with retention", () => {
    expect(new MemoryStorage().capabilities).toEqual({ persistent: false, retention: true });
  });
});
