// Human input: requestInput, waiting_for_input records, answers by request id, from this or a later process.
import { describe, expect, it } from "vitest";
import { MemoryStorage, WorkflowEngine } from "../src/index.js";
import { journal, Script } from "./fixtures.js";

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
