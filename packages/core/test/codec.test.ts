// Shared state JSON cannot keep: refused with NOT_SERIALIZABLE, or carried through a StateCodec.
import { describe, expect, it } from "vitest";
import {
  type JsonValue,
  MemoryStorage,
  type SharedState,
  type StateCodec,
  WorkflowEngine,
} from "../src/index.js";
import { Script, visit } from "./fixtures.js";

describe("non-JSON shared state", () => {
  const stampUser = () =>
    new Script({
      id: "stamp",
      cleanup: (shared) => {
        shared.user = { name: "Ada", createdAt: new Date("2024-05-06T07:08:09.000Z") };
      },
    });

  /** Encodes Dates as `{ $date: iso }` and decodes them back. */
  const dateCodec: StateCodec = {
    encode: (shared) =>
      JSON.parse(
        JSON.stringify(shared, function (this: Record<string, unknown>, key, value: unknown) {
          const raw = this[key];
          return raw instanceof Date ? { $date: raw.toISOString() } : value;
        }),
      ) as JsonValue,
    decode: (stored) =>
      JSON.parse(JSON.stringify(stored), (_key, value: unknown) => {
        const date = (value as { $date?: unknown } | null)?.$date;
        return typeof date === "string" ? new Date(date) : value;
      }) as SharedState,
  };

  it("fails the step with NOT_SERIALIZABLE naming the path, keeping the stored state unchanged", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [stampUser()],
      initialState: { before: true },
      storage,
    });

    await expect(engine.run()).resolves.toBe("failed");

    expect(engine.error).toMatchObject({ code: "NOT_SERIALIZABLE", path: "shared.user.createdAt" });
    expect(engine.shared).toEqual({ before: true });
    const last = await storage.getLatestStep("w", engine.runId);
    expect(last.status).toBe("failed");
    expect(last.nodeStatuses).toEqual({ stamp: "failed" });
    expect(last.shared).toEqual({ before: true });
    expect(last.error?.code).toBe("NOT_SERIALIZABLE");
    expect(last.error?.message).toContain("shared.user.createdAt");
  });

  it("with a codec, stores the encoded state and gives a Date back after a restart", async () => {
    const storage = new MemoryStorage();
    const nodes = [stampUser()];
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes,
      storage,
      codec: dateCodec,
    });

    await expect(engine.run()).resolves.toBe("completed");

    expect((engine.shared.user as { createdAt: unknown }).createdAt).toBeInstanceOf(Date);
    const last = await storage.getLatestStep("w", engine.runId);
    expect(last.shared).toEqual({
      user: { name: "Ada", createdAt: { $date: "2024-05-06T07:08:09.000Z" } },
    });

    const reopened = await WorkflowEngine.create({
      workflowId: "w",
      nodes,
      storage,
      codec: dateCodec,
      runId: engine.runId,
    });
    const createdAt = (reopened.shared.user as { createdAt: unknown }).createdAt;
    expect(createdAt).toBeInstanceOf(Date);
    expect((createdAt as Date).toISOString()).toBe("2024-05-06T07:08:09.000Z");
  });

  it("with a codec, encodes a Date in initialState into step 0", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [visit("a")],
      initialState: { when: new Date("2024-01-01T00:00:00.000Z") },
      storage,
      codec: dateCodec,
    });

    expect((await storage.getStep("w", engine.runId, 0)).shared).toEqual({
      when: { $date: "2024-01-01T00:00:00.000Z" },
    });
    expect(engine.shared.when).toBeInstanceOf(Date);
  });
});
