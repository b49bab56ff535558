// WorkflowEngine behaviour on MemoryStorage: edges, retries, failures, state encoding, human input, history, conflicts.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadDefaultStorage } from "../src/default-storage.js";
import {
  type Edge,
  type JsonValue,
  MemoryStorage,
  Node,
  RUN_ID_PATTERN,
  type SharedState,
  type StateCodec,
  StepConflictError,
  WorkflowEngine,
} from "../src/index.js";
import { Script, storedSteps, visit } from "./fixtures.js";

function journal(storage: MemoryStorage, engine: WorkflowEngine) {
  return storedSteps(storage, engine.workflowId, engine.runId);
}

afterEach(() => {
  vi.useRealTimers();
});

describe("a new run", () => {
  it("starts with step 0: running, no parent, no previous node, the start node next", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "greeter",
      nodes: [visit("a"), visit("b")],
      edges: [{ from: "b", to: "a" }],
      start: "b",
      initialState: { name: "Ada" },
      storage,
    });

    expect(engine.runId).toMatch(RUN_ID_PATTERN);
    expect(engine.workflowId).toBe("greeter");
    expect(engine.status).toBe("running");
    expect(engine.currentStep).toBe(0);
    expect(engine.headStep).toBe(0);
    expect(engine.nextNodeId).toBe("b");
    expect(engine.shared).toEqual({ name: "Ada" });
    expect(engine.awaitingInput).toBeNull();
    expect(engine.error).toBeUndefined();
    const [zero, ...rest] = await journal(storage, engine);
    expect(rest).toEqual([]);
    expect(zero).toMatchObject({
      workflowId: "greeter",
      runId: engine.runId,
      step: 0,
      parent: null,
      status: "running",
      previousNodeId: null,
      nextNodeId: "b",
      shared: { name: "Ada" },
      nodeStatuses: {},
      awaitingInput: null,
      inputs: {},
      error: null,
    });
    expect(new Date(zero?.createdAt ?? "").toISOString()).toBe(zero?.createdAt);
  });

  it("stores run metadata with the definition fingerprint: node ids and types, edges and a sha256 hash", async () => {
    class Fetch extends Node {}
    class Review extends Node {
      static type = "ReviewV2";
    }
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [new Fetch(), new Review({ id: "review" })],
      edges: [
        { from: "Fetch", to: "review", when: (s) => s.ok === true },
        { from: "review", to: "Fetch" },
      ],
      storage,
    });

    const run = await storage.getRun("w", engine.runId);

    expect(run).toMatchObject({
      workflowId: "w",
      runId: engine.runId,
      status: "running",
      headStep: 0,
      forkedFrom: null,
    });
    expect(run.definition).toMatchObject({
      start: "Fetch",
      nodes: [
        { id: "Fetch", type: "Fetch" },
        { id: "review", type: "ReviewV2" },
      ],
      edges: [
        { from: "Fetch", to: "review", conditional: true },
        { from: "review", to: "Fetch", conditional: false },
      ],
    });
    expect(run.definition.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("gives definitions that differ only in an edge condition different hashes", async () => {
    const storage = new MemoryStorage();
    const create = (edges: Edge[]) =>
      WorkflowEngine.create({ workflowId: "w", nodes: [visit("a"), visit("b")], edges, storage });
    const plain = await create([{ from: "a", to: "b" }]);
    const conditional = await create([{ from: "a", to: "b", when: () => true }]);
    const again = await create([{ from: "a", to: "b" }]);

    const hashOf = async (engine: WorkflowEngine) =>
      (await storage.getRun("w", engine.runId)).definition.hash;

    expect(await hashOf(plain)).not.toBe(await hashOf(conditional));
    expect(await hashOf(plain)).toBe(await hashOf(again));
  });
});

describe("edges", () => {
  const branching = (flags: { first: boolean; second: boolean }): Edge[] => [
    { from: "start", to: "fallback" },
    { from: "start", to: "first", when: () => flags.first },
    { from: "start", to: "second", when: () => flags.second },
    { from: "start", to: "later-fallback" },
  ];
  const nodes = () =>
    ["start", "fallback", "first", "second", "later-fallback"].map((id) => visit(id));

  it("take the first edge whose condition holds, even when an unconditional edge is declared before it", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: nodes(),
      edges: branching({ first: false, second: true }),
      storage,
    });

    await expect(engine.run()).resolves.toBe("completed");

    expect(engine.shared.visited).toEqual(["start", "second"]);
    const records = await journal(storage, engine);
    expect(records.map((r) => r.previousNodeId)).toEqual([null, "start", "second"]);
    expect(records[1]?.nextNodeId).toBe("second");
  });

  it("take the first conditional edge in declaration order when several hold", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: nodes(),
      edges: branching({ first: true, second: true }),
      storage,
    });

    await engine.run();

    expect(engine.shared.visited).toEqual(["start", "first"]);
  });

  it("fall back to the first edge without a condition when no condition holds", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: nodes(),
      edges: branching({ first: false, second: false }),
      storage,
    });

    await engine.run();

    expect(engine.shared.visited).toEqual(["start", "fallback"]);
  });

  it("are chosen from the shared state after the node's cleanup", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [
        new Script({
          id: "decide",
          cleanup: (shared) => {
            shared.loud = true;
          },
        }),
        visit("quiet"),
        visit("shout"),
      ],
      edges: [
        { from: "decide", to: "shout", when: (s) => s.loud === true },
        { from: "decide", to: "quiet" },
      ],
      storage,
    });

    await engine.run();

    expect(engine.shared).toEqual({ loud: true, visited: ["shout"] });
  });

  it("complete the run when a node has no edge out, and step() then does nothing", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [visit("only")],
      storage,
    });

    await expect(engine.step()).resolves.toBe(false);

    expect(engine.status).toBe("completed");
    expect(engine.nextNodeId).toBeNull();
    const records = await journal(storage, engine);
    expect(records).toHaveLength(2);
    expect(records[1]).toMatchObject({
      step: 1,
      parent: 0,
      status: "completed",
      previousNodeId: "only",
      nextNodeId: null,
      nodeStatuses: { only: "completed" },
      shared: { visited: ["only"] },
    });
    expect((await storage.getRun("w", engine.runId)).status).toBe("completed");

    await expect(engine.step()).resolves.toBe(false);
    await expect(engine.run()).resolves.toBe("completed");
    expect(await journal(storage, engine)).toEqual(records);
  });

  it("let run() go through every node and resolve to the final status", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [visit("a"), visit("b"), visit("c")],
      edges: [
        { from: "a", to: "b" },
        { from: "b", to: "c" },
      ],
      storage,
    });

    await expect(engine.run()).resolves.toBe("completed");

    const records = await journal(storage, engine);
    expect(
      records.map((r) => [r.step, r.parent, r.status, r.previousNodeId, r.nextNodeId]),
    ).toEqual([
      [0, null, "running", null, "a"],
      [1, 0, "running", "a", "b"],
      [2, 1, "running", "b", "c"],
      [3, 2, "completed", "c", null],
    ]);
    expect(records[3]?.nodeStatuses).toEqual({ a: "completed", b: "completed", c: "completed" });
    expect(records[3]?.shared).toEqual({ visited: ["a", "b", "c"] });
  });
});

describe("retries", () => {
  it("run execute 1 + maxRetries times before giving up", async () => {
    const storage = new MemoryStorage();
    let attempts = 0;
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [
        new Script({
          id: "flaky",
          maxRetries: 2,
          execute: () => {
            attempts += 1;
            throw new Error(`attempt ${attempts} failed`);
          },
        }),
      ],
      storage,
    });

    await expect(engine.run()).resolves.toBe("failed");

    expect(attempts).toBe(3);
    expect(engine.error?.message).toBe("attempt 3 failed");
  });

  it("stop retrying as soon as execute succeeds and pass its result to cleanup", async () => {
    const storage = new MemoryStorage();
    let attempts = 0;
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [
        new Script({
          id: "flaky",
          maxRetries: 5,
          prepare: () => "input",
          execute: (prepared) => {
            attempts += 1;
            if (attempts < 3) throw new Error("not yet");
            return `${prepared} on attempt ${attempts}`;
          },
          cleanup: (shared, _prepared, result) => {
            shared.result = result;
          },
        }),
      ],
      storage,
    });

    await expect(engine.run()).resolves.toBe("completed");

    expect(attempts).toBe(3);
    expect((await storage.getLatestStep("w", engine.runId)).shared).toEqual({
      result: "input on attempt 3",
    });
  });

  it("compute each retry delay from retryDelayMs, backoffFactor and maxRetryDelayMs", () => {
    const node = visit("n", { retryDelayMs: 100, backoffFactor: 3, maxRetryDelayMs: 1000 });

    expect([1, 2, 3, 4].map((retry) => node.retryDelay(retry))).toEqual([100, 300, 900, 1000]);
  });

  it("default to no delay, a backoff factor of 2 and a 30 second cap", () => {
    expect(visit("n").retryDelay(3)).toBe(0);
    const node = visit("n", { retryDelayMs: 1000 });
    expect([1, 2, 3, 10].map((retry) => node.retryDelay(retry))).toEqual([
      1000, 2000, 4000, 30_000,
    ]);
  });

  it("wait the computed delays between attempts", async () => {
    const storage = new MemoryStorage();
    const attemptTimes: number[] = [];
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [
        new Script({
          id: "flaky",
          maxRetries: 2,
          retryDelayMs: 100,
          backoffFactor: 3,
          execute: () => {
            attemptTimes.push(Date.now());
            if (attemptTimes.length < 3) throw new Error("not yet");
          },
        }),
      ],
      storage,
    });
    vi.useFakeTimers({ now: 0, toFake: ["setTimeout", "clearTimeout", "Date"] });

    const stepping = engine.step();
    await vi.runAllTimersAsync();

    await expect(stepping).resolves.toBe(false);
    expect(engine.status).toBe("completed");
    expect(attemptTimes).toEqual([0, 100, 400]);
  });

  it.each([
    { maxRetries: -1 },
    { maxRetries: 1.5 },
    { retryDelayMs: -1 },
    { backoffFactor: Number.NaN },
    { maxRetryDelayMs: Number.POSITIVE_INFINITY },
  ])("refuse the node option %o with a RangeError", (options) => {
    expect(() => visit("n", options)).toThrow(RangeError);
  });

  it("call execFallback with what prepare returned and the last error, and hand its result to cleanup", async () => {
    const storage = new MemoryStorage();
    const fallbackCalls: [unknown, unknown][] = [];
    let attempts = 0;
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [
        new Script({
          id: "fetch",
          maxRetries: 1,
          prepare: () => ({ url: "https://example.invalid" }),
          execute: () => {
            attempts += 1;
            throw new Error(`down ${attempts}`);
          },
          fallback: (prepared, error) => {
            fallbackCalls.push([prepared, error]);
            return "cached";
          },
          cleanup: (shared, _prepared, result) => {
            shared.page = result;
          },
        }),
      ],
      storage,
    });

    await expect(engine.run()).resolves.toBe("completed");

    expect(attempts).toBe(2);
    expect(fallbackCalls).toHaveLength(1);
    const [prepared, error] = fallbackCalls[0] ?? [];
    expect(prepared).toEqual({ url: "https://example.invalid" });
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe("down 2");
    const last = await storage.getLatestStep("w", engine.runId);
    expect(last).toMatchObject({
      status: "completed",
      shared: { page: "cached" },
      nodeStatuses: { fetch: "completed" },
      error: null,
    });
  });

  it("fail the run when the fallback throws, journalling the error over the state before the node", async () => {
    const storage = new MemoryStorage();
    const cause = Object.assign(new Error("fallback failed too"), { code: "E_UPSTREAM" });
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [
        visit("first"),
        new Script({
          id: "fetch",
          maxRetries: 1,
          execute: () => {
            throw new Error("down");
          },
          fallback: () => {
            throw cause;
          },
          cleanup: (shared) => {
            shared.fetched = true;
          },
        }),
      ],
      edges: [{ from: "first", to: "fetch" }],
      initialState: { count: 1 },
      storage,
    });

    await expect(engine.run()).resolves.toBe("failed");

    expect(engine.status).toBe("failed");
    expect(engine.error).toBe(cause);
    expect(engine.shared).toEqual({ count: 1, visited: ["first"] });
    const last = await storage.getLatestStep("w", engine.runId);
    expect(last).toMatchObject({
      step: 2,
      parent: 1,
      status: "failed",
      previousNodeId: "fetch",
      nodeStatuses: { first: "completed", fetch: "failed" },
      shared: { count: 1, visited: ["first"] },
      error: { name: "Error", message: "fallback failed too", code: "E_UPSTREAM", nodeId: "fetch" },
    });
    expect((await storage.getRun("w", engine.runId)).status).toBe("failed");
  });

  it("keep a change prepare made before throwing out of the journal and out of engine.shared", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [
        visit("first"),
        new Script({
          id: "sloppy",
          prepare: (shared) => {
            shared.half = "written";
            (shared.visited as string[]).push("sloppy");
            throw new TypeError("prepare broke");
          },
        }),
      ],
      edges: [{ from: "first", to: "sloppy" }],
      storage,
    });

    await expect(engine.run()).resolves.toBe("failed");

    expect(engine.error).toBeInstanceOf(TypeError);
    expect(engine.shared).toEqual({ visited: ["first"] });
    const records = await journal(storage, engine);
    expect(records.map((r) => r.shared)).toEqual([
      {},
      { visited: ["first"] },
      { visited: ["first"] },
    ]);
    expect(records[2]?.error).toMatchObject({
      name: "TypeError",
      message: "prepare broke",
      code: null,
      nodeId: "sloppy",
    });
    expect((await engine.history()).map((r) => r.shared)).toEqual(records.map((r) => r.shared));
  });
});

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

describe("human input", () => {
  const askName = () =>
    new Script({
      id: "greet",
      prepare: async (shared, requestInput) => {
        shared.asked = true;
        return requestInput("Your name?", { options: ["Ada", "Grace"] });
      },
      cleanup: (shared, name) => {
        shared.greeting = `hello ${name}`;
      },
    });

  it("parks the run in waiting_for_input with the question, journalled", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({ workflowId: "w", nodes: [askName()], storage });

    await expect(engine.run()).resolves.toBe("waiting_for_input");

    const question = {
      nodeId: "greet",
      requestId: "greet",
      prompt: "Your name?",
      options: ["Ada", "Grace"],
    };
    expect(engine.status).toBe("waiting_for_input");
    expect(engine.awaitingInput).toEqual(question);
    expect(engine.nextNodeId).toBe("greet");
    expect(engine.shared).toEqual({});
    const last = await storage.getLatestStep("w", engine.runId);
    expect(last).toMatchObject({
      step: 1,
      status: "waiting_for_input",
      awaitingInput: question,
      nodeStatuses: { greet: "waiting" },
      shared: {},
      inputs: {},
    });
    expect((await storage.getRun("w", engine.runId)).status).toBe("waiting_for_input");
  });

  it("records options as null when the question has none", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [new Script({ id: "ask", prepare: (_s, requestInput) => requestInput("Why?") })],
      storage,
    });

    await engine.run();

    expect(engine.awaitingInput).toEqual({
      nodeId: "ask",
      requestId: "ask",
      prompt: "Why?",
      options: null,
    });
  });

  it("does nothing when stepped without the answer", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({ workflowId: "w", nodes: [askName()], storage });
    await engine.run();
    const before = await journal(storage, engine);

    await expect(engine.step()).resolves.toBe(false);
    await expect(engine.step({})).resolves.toBe(false);
    await expect(engine.run()).resolves.toBe("waiting_for_input");

    expect(await journal(storage, engine)).toEqual(before);
    expect(engine.status).toBe("waiting_for_input");
    expect(engine.headStep).toBe(1);
  });

  it("treats an undefined answer as no answer, since the journal could not keep it", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({ workflowId: "w", nodes: [askName()], storage });
    await engine.run();
    const before = await journal(storage, engine);

    await expect(engine.step({ greet: undefined })).resolves.toBe(false);

    expect(engine.awaitingInput).toMatchObject({ requestId: "greet" });
    expect(await journal(storage, engine)).toEqual(before);
  });

  it("continues with the answer given under the request id and journals it", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({ workflowId: "w", nodes: [askName()], storage });
    await engine.run();

    await expect(engine.step({ greet: "Ada" })).resolves.toBe(false);

    expect(engine.status).toBe("completed");
    expect(engine.awaitingInput).toBeNull();
    expect(engine.shared).toEqual({ asked: true, greeting: "hello Ada" });
    const last = await storage.getLatestStep("w", engine.runId);
    expect(last).toMatchObject({
      step: 2,
      parent: 1,
      status: "completed",
      awaitingInput: null,
      inputs: { greet: "Ada" },
      nodeStatuses: { greet: "completed" },
      shared: { asked: true, greeting: "hello Ada" },
    });
  });

  it("uses a request id the node chose", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [
        new Script({
          id: "approve",
          prepare: (_s, requestInput) => requestInput("OK?", { requestId: "manager-ok" }),
          cleanup: (shared, answer) => {
            shared.answer = answer;
          },
        }),
      ],
      storage,
    });
    await engine.run();

    expect(engine.awaitingInput?.requestId).toBe("manager-ok");
    await expect(engine.step({ approve: "wrong key" })).rejects.toMatchObject({
      code: "UNEXPECTED_INPUT",
      requestId: "manager-ok",
      given: ["approve"],
    });
    await expect(engine.run({ "manager-ok": true })).resolves.toBe("completed");
    expect(engine.shared).toEqual({ answer: true });
  });

  it("waits even when prepare catches the input request and returns", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [
        new Script({
          id: "swallow",
          prepare: async (_s, requestInput) => {
            try {
              return await requestInput("Name?");
            } catch {
              return "nobody";
            }
          },
          cleanup: (shared, name) => {
            shared.name = name;
          },
        }),
      ],
      storage,
    });

    await expect(engine.run()).resolves.toBe("waiting_for_input");
    expect(engine.shared).toEqual({});
    await expect(engine.run({ swallow: "Ada" })).resolves.toBe("completed");
    expect(engine.shared).toEqual({ name: "Ada" });
  });

  it("retrying a node that failed after its answer reuses the journalled answer instead of asking again", async () => {
    const storage = new MemoryStorage();
    let calls = 0;
    const approve = () =>
      new Script({
        id: "approve",
        prepare: (_s, requestInput) => requestInput("Ship it?"),
        execute: (answer) => {
          calls += 1;
          if (calls === 1) throw new Error("deploy API down");
          return answer;
        },
        cleanup: (shared, _p, answer) => {
          shared.shipped = answer;
        },
      });
    const engine = await WorkflowEngine.create({ workflowId: "w", nodes: [approve()], storage });
    await engine.run();
    await expect(engine.run({ approve: "yes" })).resolves.toBe("failed");
    expect((await storage.getLatestStep("w", engine.runId)).inputs).toEqual({ approve: "yes" });

    const restarted = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [approve()],
      storage,
      runId: engine.runId,
    });
    await expect(restarted.run()).resolves.toBe("completed");
    expect(restarted.shared).toEqual({ shipped: "yes" });
    expect((await storage.getLatestStep("w", engine.runId)).inputs).toEqual({ approve: "yes" });
  });

  it("gives a node that asks twice both answers, across a restart between them", async () => {
    const storage = new MemoryStorage();
    const form = () =>
      new Script({
        id: "form",
        prepare: async (_s, requestInput) => {
          const name = await requestInput("Name?");
          const age = await requestInput("Age?");
          return { name, age };
        },
        cleanup: (shared, person) => {
          shared.person = person;
        },
      });
    const engine = await WorkflowEngine.create({ workflowId: "w", nodes: [form()], storage });
    await engine.run();
    expect(engine.awaitingInput).toMatchObject({ requestId: "form", prompt: "Name?" });

    await expect(engine.step({ form: "Ada" })).resolves.toBe(false);

    expect(engine.awaitingInput).toMatchObject({ requestId: "form#2", prompt: "Age?" });
    const waiting = await storage.getLatestStep("w", engine.runId);
    expect(waiting).toMatchObject({
      step: 2,
      status: "waiting_for_input",
      inputs: { form: "Ada" },
      awaitingInput: { nodeId: "form", requestId: "form#2", prompt: "Age?", options: null },
    });

    // A new process: only the journal carries the first answer.
    const restarted = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [form()],
      storage: storage,
      runId: engine.runId,
    });
    expect(restarted.status).toBe("waiting_for_input");
    expect(restarted.awaitingInput).toMatchObject({ requestId: "form#2" });

    await expect(restarted.run({ "form#2": 36 })).resolves.toBe("completed");

    expect(restarted.shared).toEqual({ person: { name: "Ada", age: 36 } });
    const last = await storage.getLatestStep("w", engine.runId);
    expect(last).toMatchObject({
      step: 3,
      parent: 2,
      status: "completed",
      inputs: { form: "Ada", "form#2": 36 },
      shared: { person: { name: "Ada", age: 36 } },
    });
  });

  it("asks again on the second visit of a node in a loop instead of reusing the first answer", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [
        new Script({
          id: "review",
          prepare: (_s, requestInput) => requestInput("Approve?", { options: ["yes", "no"] }),
          cleanup: (shared, answer) => {
            shared.approved = answer === "yes";
          },
        }),
        new Script({
          id: "revise",
          cleanup: (shared) => {
            const drafts = ((shared.drafts as number | undefined) ?? 0) + 1;
            // Ends a runaway loop as a failure rather than hanging the test.
            if (drafts > 3) throw new Error("the review answered itself");
            shared.drafts = drafts;
          },
        }),
      ],
      edges: [
        { from: "review", to: "revise", when: (s) => s.approved === false },
        { from: "revise", to: "review" },
      ],
      storage,
    });
    await expect(engine.run()).resolves.toBe("waiting_for_input");

    await expect(engine.run({ review: "no" })).resolves.toBe("waiting_for_input");

    expect(engine.awaitingInput).toMatchObject({ nodeId: "review", requestId: "review" });
    expect(engine.shared).toEqual({ approved: false, drafts: 1 });
    const records = await journal(storage, engine);
    expect(records.map((r) => [r.previousNodeId, r.status, r.inputs])).toEqual([
      [null, "running", {}],
      ["review", "waiting_for_input", {}],
      ["review", "running", { review: "no" }],
      ["revise", "running", {}],
      ["review", "waiting_for_input", {}],
    ]);

    await expect(engine.run({ review: "yes" })).resolves.toBe("completed");
    expect(engine.shared).toEqual({ approved: true, drafts: 1 });
  });

  it("asks every question again when a loop brings a node that asked twice back", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [
        new Script({
          id: "form",
          prepare: async (_s, requestInput) => [
            await requestInput("Name?"),
            await requestInput("Age?"),
          ],
          cleanup: (shared, answers) => {
            shared.people = [...((shared.people as unknown[] | undefined) ?? []), answers];
          },
        }),
      ],
      edges: [{ from: "form", to: "form", when: (s) => (s.people as unknown[]).length < 2 }],
      storage,
    });
    await engine.run();
    await engine.run({ form: "Ada" });

    await expect(engine.run({ "form#2": 36 })).resolves.toBe("waiting_for_input");

    expect(engine.shared).toEqual({ people: [["Ada", 36]] });
    expect(engine.awaitingInput).toMatchObject({ requestId: "form", prompt: "Name?" });
    expect(await storage.getLatestStep("w", engine.runId)).toMatchObject({
      step: 4,
      status: "waiting_for_input",
      inputs: {},
    });
  });

  it("gives run(input) to the first step only", async () => {
    const storage = new MemoryStorage();
    const ask = (id: string) =>
      new Script({
        id,
        prepare: (_s, requestInput) => requestInput(`${id}?`),
        cleanup: (shared, answer) => {
          shared[id] = answer;
        },
      });
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [ask("first"), ask("second")],
      edges: [{ from: "first", to: "second" }],
      storage,
    });

    await expect(engine.run({ first: 1, second: 2 })).resolves.toBe("waiting_for_input");

    expect(engine.shared).toEqual({ first: 1 });
    expect(engine.awaitingInput).toMatchObject({ nodeId: "second", requestId: "second" });
    const records = await journal(storage, engine);
    expect(records.map((r) => r.inputs)).toEqual([{}, { first: 1 }, {}]);
  });

  it("rejects an answer map that is not plain JSON, writing nothing", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({ workflowId: "w", nodes: [askName()], storage });
    await engine.run();
    const before = await journal(storage, engine);

    await expect(engine.step({ greet: new Date(0) })).rejects.toMatchObject({
      code: "NOT_SERIALIZABLE",
      path: "input.greet",
    });
    await expect(engine.step(["Ada"] as unknown as Record<string, unknown>)).rejects.toThrow(
      TypeError,
    );

    expect(await journal(storage, engine)).toEqual(before);
  });
});

describe("failed runs", () => {
  const flakyOnce = (calls: { count: number }) =>
    new Script({
      id: "flaky",
      execute: () => {
        calls.count += 1;
        if (calls.count === 1)
          throw Object.assign(new Error("first call fails"), { code: "E_FLAKY" });
        return calls.count;
      },
      cleanup: (shared, _p, result) => {
        shared.calls = result;
      },
    });

  it("retry the failed node on the next step of a reopened engine", async () => {
    const storage = new MemoryStorage();
    const calls = { count: 0 };
    const nodes = [visit("before"), flakyOnce(calls), visit("after")];
    const edges: Edge[] = [
      { from: "before", to: "flaky" },
      { from: "flaky", to: "after" },
    ];
    const engine = await WorkflowEngine.create({ workflowId: "w", nodes, edges, storage });
    await expect(engine.run()).resolves.toBe("failed");

    const reopened = await WorkflowEngine.create({
      workflowId: "w",
      nodes,
      edges,
      storage,
      runId: engine.runId,
    });

    expect(reopened.status).toBe("failed");
    expect(reopened.nextNodeId).toBe("flaky");
    expect(reopened.error?.message).toBe("first call fails");
    expect(reopened.error).toMatchObject({ code: "E_FLAKY" });
    expect(reopened.shared).toEqual({ visited: ["before"] });

    await expect(reopened.run()).resolves.toBe("completed");

    expect(calls.count).toBe(2);
    expect(reopened.error).toBeUndefined();
    const records = await journal(storage, engine);
    expect(records.map((r) => [r.step, r.parent, r.previousNodeId, r.status])).toEqual([
      [0, null, null, "running"],
      [1, 0, "before", "running"],
      [2, 1, "flaky", "failed"],
      [3, 2, "flaky", "running"],
      [4, 3, "after", "completed"],
    ]);
    expect(records[3]?.nodeStatuses).toEqual({ before: "completed", flaky: "completed" });
    expect(records[4]?.shared).toEqual({ visited: ["before", "after"], calls: 2 });
  });

  it("retry the failed node when the same engine is stepped again", async () => {
    const storage = new MemoryStorage();
    const calls = { count: 0 };
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [flakyOnce(calls)],
      storage,
    });

    await expect(engine.step()).resolves.toBe(false);
    expect(engine.status).toBe("failed");
    await expect(engine.step()).resolves.toBe(false);

    expect(engine.status).toBe("completed");
    expect(engine.shared).toEqual({ calls: 2 });
    expect((await journal(storage, engine)).map((r) => r.status)).toEqual([
      "running",
      "failed",
      "completed",
    ]);
  });
});

describe("history and positions", () => {
  const chain = () => ({
    nodes: [visit("a"), visit("b"), visit("c")],
    edges: [
      { from: "a", to: "b" },
      { from: "b", to: "c" },
    ] as Edge[],
  });

  it("history() lists the timeline's records oldest first, ending at the current step", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({ workflowId: "w", ...chain(), storage });
    expect((await engine.history()).map((r) => r.step)).toEqual([0]);

    await engine.run();

    const history = await engine.history();
    expect(history.map((r) => r.step)).toEqual([0, 1, 2, 3]);
    expect(history).toEqual(await journal(storage, engine));
    expect(engine.currentStep).toBe(3);
    expect(engine.headStep).toBe(3);
  });

  it("history() after a resume from step k follows parents past the superseded branch", async () => {
    const storage = new MemoryStorage();
    const first = await WorkflowEngine.create({ workflowId: "w", ...chain(), storage });
    await first.run();

    const resumed = await WorkflowEngine.create({
      workflowId: "w",
      ...chain(),
      storage,
      runId: first.runId,
      resumeFrom: 1,
    });

    expect(resumed.currentStep).toBe(1);
    expect(resumed.headStep).toBe(3);
    expect(resumed.status).toBe("running");
    expect(resumed.nextNodeId).toBe("b");
    expect(resumed.shared).toEqual({ visited: ["a"] });
    expect((await resumed.history()).map((r) => r.step)).toEqual([0, 1]);

    await expect(resumed.run()).resolves.toBe("completed");

    expect(resumed.currentStep).toBe(5);
    expect(resumed.headStep).toBe(5);
    const history = await resumed.history();
    expect(history.map((r) => [r.step, r.parent, r.previousNodeId])).toEqual([
      [0, null, null],
      [1, 0, "a"],
      [4, 1, "b"],
      [5, 4, "c"],
    ]);
    // The superseded branch is still stored, and the first engine still sees its own timeline.
    expect((await journal(storage, resumed)).map((r) => r.step)).toEqual([0, 1, 2, 3, 4, 5]);
    expect((await first.history()).map((r) => r.step)).toEqual([0, 1, 2, 3]);
  });

  it("history() hands out copies that cannot change the engine's state", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({ workflowId: "w", ...chain(), storage });
    await engine.step();

    const copy = (await engine.history()).at(-1)?.shared as { visited: string[] } | undefined;
    copy?.visited.push("tampered");
    expect(copy?.visited).toEqual(["a", "tampered"]);

    expect(engine.shared).toEqual({ visited: ["a"] });
    expect((await engine.history()).at(-1)?.shared).toEqual({ visited: ["a"] });
  });
});

describe("misuse and conflicts", () => {
  it("rejects a second step() while one is running with a plain Error, and the first still lands", async () => {
    const storage = new MemoryStorage();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const engine = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [visit("slow", { execute: () => gate }), visit("next")],
      edges: [{ from: "slow", to: "next" }],
      storage,
    });

    const first = engine.step();
    const second = engine.step().then(
      () => null,
      (error: unknown) => error,
    );
    const run = engine.run().then(
      () => null,
      (error: unknown) => error,
    );
    release();

    const [misuse, runMisuse] = [await second, await run];
    expect(misuse).toBeInstanceOf(Error);
    expect((misuse as Error).constructor).toBe(Error);
    expect(misuse).not.toHaveProperty("code");
    expect((runMisuse as Error).constructor).toBe(Error);
    await expect(first).resolves.toBe(true);
    expect((await journal(storage, engine)).map((r) => r.previousNodeId)).toEqual([null, "slow"]);

    await expect(engine.step()).resolves.toBe(false);
    expect(engine.shared).toEqual({ visited: ["slow", "next"] });
  });

  it("leaves the losing engine's state and the store untouched when another engine appended first", async () => {
    const storage = new MemoryStorage();
    const nodes = [
      new Script({
        id: "count",
        cleanup: (shared) => {
          shared.count = (shared.count as number) + 1;
        },
      }),
    ];
    const winner = await WorkflowEngine.create({
      workflowId: "w",
      nodes,
      initialState: { count: 0 },
      storage,
    });
    const loser = await WorkflowEngine.create({
      workflowId: "w",
      nodes,
      storage,
      runId: winner.runId,
    });
    await winner.step();
    const stored = await journal(storage, winner);

    const attempt = loser.step();

    await expect(attempt).rejects.toThrow(StepConflictError);
    await expect(attempt).rejects.toMatchObject({ code: "STEP_CONFLICT", step: 1 });
    expect(loser.shared).toEqual({ count: 0 });
    expect(loser.status).toBe("running");
    expect(loser.currentStep).toBe(0);
    expect(loser.headStep).toBe(0);
    expect(await journal(storage, winner)).toEqual(stored);
    expect(await storage.getRun("w", winner.runId)).toMatchObject({
      headStep: 1,
      status: "completed",
    });
  });

  it("lets exactly one of two engines racing for the same step win", async () => {
    const storage = new MemoryStorage();
    const nodes = [
      new Script({
        id: "count",
        cleanup: (shared) => {
          shared.count = (shared.count as number) + 1;
        },
      }),
    ];
    const a = await WorkflowEngine.create({
      workflowId: "w",
      nodes,
      initialState: { count: 0 },
      storage,
    });
    const b = await WorkflowEngine.create({ workflowId: "w", nodes, storage, runId: a.runId });

    const results = await Promise.allSettled([a.step(), b.step()]);

    const rejected = results.flatMap((r, i) =>
      r.status === "rejected" ? [{ i, reason: r.reason }] : [],
    );
    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.reason).toMatchObject({ code: "STEP_CONFLICT" });
    const [winner, loser] = rejected[0]?.i === 0 ? [b, a] : [a, b];
    expect(loser.shared).toEqual({ count: 0 });
    expect(winner.shared).toEqual({ count: 1 });
    const records = await journal(storage, winner);
    expect(records).toHaveLength(2);
    expect(records[1]).toEqual((await winner.history()).at(-1));

    const reopened = await WorkflowEngine.create({
      workflowId: "w",
      nodes,
      storage,
      runId: a.runId,
    });
    expect(reopened).toMatchObject({ headStep: 1, status: "completed", shared: { count: 1 } });
  });
});

describe("a completed run", () => {
  it("continues when reopened with a definition that adds an edge out of its last node", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({ workflowId: "w", nodes: [visit("a")], storage });
    await expect(engine.run()).resolves.toBe("completed");

    const extended = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [visit("a"), visit("b")],
      edges: [{ from: "a", to: "b" }],
      storage,
      runId: engine.runId,
    });

    expect(extended.status).toBe("running");
    expect(extended.nextNodeId).toBe("b");
    await expect(extended.run()).resolves.toBe("completed");

    expect(extended.shared).toEqual({ visited: ["a", "b"] });
    const records = await journal(storage, engine);
    expect(records.map((r) => [r.step, r.parent, r.previousNodeId, r.status])).toEqual([
      [0, null, null, "running"],
      [1, 0, "a", "completed"],
      [2, 1, "b", "completed"],
    ]);
    expect(records[2]?.nodeStatuses).toEqual({ a: "completed", b: "completed" });
  });

  it("stays completed when reopened with the same definition, writing nothing", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({ workflowId: "w", nodes: [visit("a")], storage });
    await engine.run();
    const before = await journal(storage, engine);

    const reopened = await WorkflowEngine.create({
      workflowId: "w",
      nodes: [visit("a")],
      storage,
      runId: engine.runId,
    });

    await expect(reopened.run()).resolves.toBe("completed");
    expect(await journal(storage, engine)).toEqual(before);
  });
});

describe("default storage", () => {
  const here = dirname(fileURLToPath(import.meta.url));

  /** Whether `@wf/storage-fs` can be imported from core: linked and built, not merely present. */
  function adapterInstalled(): boolean {
    for (const root of [join(here, ".."), join(here, "../../..")]) {
      const dir = join(root, "node_modules/@wf/storage-fs");
      if (!existsSync(join(dir, "package.json"))) continue;
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        exports?: { ".": { import?: string } };
        main?: string;
      };
      return existsSync(join(dir, manifest.exports?.["."].import ?? manifest.main ?? "index.js"));
    }
    return false;
  }

  it("without storage, create says how to install a default adapter that is missing", async () => {
    const error = await loadDefaultStorage("@wf/storage-not-installed").then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toContain("npm install @wf/storage-not-installed");
    expect(error?.message).toContain("new MemoryStorage()");
  });

  it("without storage, the journal goes to ./logs through @wf/storage-fs", async () => {
    const nodes = [visit("a")];
    expect(adapterInstalled()).toBe(true);
    const originalCwd = process.cwd();
    const workDir = mkdtempSync(join(tmpdir(), "wf-core-default-storage-"));
    try {
      process.chdir(workDir);
      const engine = await WorkflowEngine.create({ workflowId: "w", nodes });
      await expect(engine.run()).resolves.toBe("completed");
      expect(engine.storage.constructor.name).toBe("FileSystemStorage");
      await engine.storage.close();

      expect(readdirSync(join(workDir, "logs"), { recursive: true }).length).toBeGreaterThan(0);
      const reopened = await WorkflowEngine.create({ workflowId: "w", nodes, runId: engine.runId });
      expect(reopened.status).toBe("completed");
      expect(reopened.shared).toEqual({ visited: ["a"] });
      expect((await reopened.history()).map((r) => r.step)).toEqual([0, 1]);
      await reopened.storage.close();
    } finally {
      process.chdir(originalCwd);
      rmSync(workDir, { recursive: true, force: true });
    }
  });
});
