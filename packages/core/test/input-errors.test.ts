// Mistakes around human input get their own typed error and lose nothing:
// a question asked outside prepare(), options JSON cannot keep, an answer
// under the wrong request id, and ids that would be lost as object keys.
import { describe, expect, it } from "vitest";
import { MemoryStorage, Node, WorkflowEngine } from "../src/index.js";
import { Script, storedSteps } from "./fixtures.js";

describe("a question asked in execute()", () => {
  /** Keeps the requestInput it was given in prepare and awaits it in execute, as a seed project's input node does. */
  class AskLater extends Node<Record<string, unknown>, () => Promise<unknown>, unknown> {
    attempts = 0;
    override prepare(
      _shared: Record<string, unknown>,
      requestInput: (p: string) => Promise<unknown>,
    ) {
      return () => requestInput("Your name?");
    }
    override async execute(ask: () => Promise<unknown>): Promise<unknown> {
      this.attempts += 1;
      return ask();
    }
    override cleanup(shared: Record<string, unknown>, _prepared: unknown, answer: unknown): void {
      shared.name = answer;
    }
  }

  it("parks the run in waiting_for_input without retries or the fallback, then continues with the answer", async () => {
    const storage = new MemoryStorage();
    const node = new AskLater({ id: "ask", maxRetries: 3 });
    const engine = await WorkflowEngine.create({ workflowId: "later", nodes: [node], storage });

    expect(await engine.run()).toBe("waiting_for_input");
    expect(node.attempts).toBe(1);
    expect(engine.awaitingInput).toEqual({
      nodeId: "ask",
      requestId: "ask",
      prompt: "Your name?",
      options: null,
    });
    expect(await engine.run({ ask: "Ada" })).toBe("completed");
    expect(engine.shared).toEqual({ name: "Ada" });
    const records = await storedSteps(storage, "later", engine.runId);
    expect(records.map((r) => r.status)).toEqual(["running", "waiting_for_input", "completed"]);
    expect(records[2]?.inputs).toEqual({ ask: "Ada" });
  });

  it("stops the node at the question even when execute() catches the error", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "swallowed",
      storage,
      nodes: [
        new Script({
          id: "ask",
          prepare: (_shared, requestInput) => requestInput,
          execute: async (requestInput) => {
            try {
              return await (requestInput as (p: string) => Promise<unknown>)("Colour?");
            } catch {
              return "swallowed";
            }
          },
          cleanup: (shared, _prepared, result) => {
            shared.colour = result;
          },
        }),
      ],
    });
    expect(await engine.run()).toBe("waiting_for_input");
    expect(engine.shared).toEqual({});
    expect(await engine.run({ ask: "green" })).toBe("completed");
    expect(engine.shared).toEqual({ colour: "green" });
  });
});

describe("requestInput options", () => {
  const asking = (options: unknown) =>
    new Script({
      id: "pick",
      prepare: (_shared, requestInput) => requestInput("Pick one", { options: options as never }),
    });

  for (const [label, options, path] of [
    ["a bigint", [1n], 'requestInput("pick").options[0]'],
    [
      "a cyclic array",
      (() => {
        const a: unknown[] = [];
        a.push(a);
        return a;
      })(),
      'requestInput("pick").options[0]',
    ],
    ["a Date", [new Date(0)], 'requestInput("pick").options[0]'],
    ["a function", [() => 1], 'requestInput("pick").options[0]'],
  ] as const) {
    it(`with ${label} fail the node with NOT_SERIALIZABLE naming the path, recorded as its failure`, async () => {
      const storage = new MemoryStorage();
      const engine = await WorkflowEngine.create({
        workflowId: "options",
        nodes: [asking(options)],
        storage,
      });
      expect(await engine.run()).toBe("failed");
      expect(engine.error).toMatchObject({ code: "NOT_SERIALIZABLE", path });
      const last = await storage.getLatestStep("options", engine.runId);
      expect(last.status).toBe("failed");
      expect(last.error).toMatchObject({ code: "NOT_SERIALIZABLE", nodeId: "pick" });
    });
  }

  it("that are JSON are journalled as given", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "options-ok",
      nodes: [asking(["a", 1, { b: [true, null] }])],
      storage,
    });
    expect(await engine.run()).toBe("waiting_for_input");
    const last = await storage.getLatestStep("options-ok", engine.runId);
    expect(last.awaitingInput?.options).toEqual(["a", 1, { b: [true, null] }]);
  });
});

describe("an answer under the wrong request id", () => {
  it("is UNEXPECTED_INPUT naming the pending request id and the keys given, and journals nothing", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "wrong-id",
      storage,
      nodes: [new Script({ id: "ask", prepare: (_s, requestInput) => requestInput("Name?") })],
    });
    await engine.run();
    const before = await storedSteps(storage, "wrong-id", engine.runId);

    const error = await engine.step({ wrongId: "Ada" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "UNEXPECTED_INPUT", requestId: "ask", given: ["wrongId"] });
    expect(String((error as Error).message)).toContain('"ask"');
    expect(String((error as Error).message)).toContain('"wrongId"');
    await expect(engine.run({ other: 1 })).rejects.toMatchObject({ code: "UNEXPECTED_INPUT" });
    expect(await storedSteps(storage, "wrong-id", engine.runId)).toEqual(before);
    expect(engine.status).toBe("waiting_for_input");
  });
});

describe("ids that are object keys of the journal", () => {
  it("__proto__ is refused as a node id with INVALID_ID", () => {
    expect(() => new Script({ id: "__proto__" })).toThrow(
      expect.objectContaining({ code: "INVALID_ID" }),
    );
  });

  it("__proto__ as a request id fails the node with INVALID_ID instead of losing the answer", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "proto-request",
      storage,
      nodes: [
        new Script({
          id: "ask",
          prepare: (_s, requestInput) => requestInput("Name?", { requestId: "__proto__" }),
        }),
      ],
    });
    expect(await engine.run()).toBe("failed");
    expect(engine.error).toMatchObject({ code: "INVALID_ID" });
  });

  it("an input key outside the request id rule is INVALID_ID and journals nothing", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "proto-input",
      storage,
      nodes: [new Script({ id: "ask", prepare: (_s, requestInput) => requestInput("Name?") })],
    });
    await engine.run();
    const input = JSON.parse('{"__proto__": "Ada"}') as Record<string, unknown>;
    await expect(engine.step(input)).rejects.toMatchObject({ code: "INVALID_ID" });
    await expect(engine.step({ "a b": 1 })).rejects.toMatchObject({ code: "INVALID_ID" });
    expect((await storedSteps(storage, "proto-input", engine.runId)).length).toBe(2);
  });

  it("a node's second question, ask#2, is a valid request id", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "numbered",
      storage,
      nodes: [
        new Script({
          id: "ask",
          prepare: async (_s, requestInput) => [await requestInput("A?"), await requestInput("B?")],
          cleanup: (shared, answers) => {
            shared.answers = answers;
          },
        }),
      ],
    });
    await engine.run({ ask: 1 });
    expect(engine.awaitingInput?.requestId).toBe("ask#2");
    expect(await engine.run({ "ask#2": 2 })).toBe("completed");
    expect(engine.shared).toEqual({ answers: [1, 2] });
  });
});

describe("resumeFrom of the wrong type", () => {
  it("says what type it got", async () => {
    const storage = new MemoryStorage();
    const engine = await WorkflowEngine.create({
      workflowId: "rf",
      nodes: [new Script({ id: "a" })],
      storage,
    });
    await expect(
      WorkflowEngine.create({
        workflowId: "rf",
        nodes: [new Script({ id: "a" })],
        storage,
        runId: engine.runId,
        resumeFrom: "1" as never,
      }),
    ).rejects.toThrow('got "1" (string)');
  });
});
