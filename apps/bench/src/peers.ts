import { randomBytes } from "node:crypto";
import { Node, type SharedState, WorkflowEngine } from "@wf/core";
import { PostgresStorage } from "@wf/storage-postgres";
import { findPostgres } from "@wf/test-services/postgres";
import pg from "pg";
import { median } from "./stats.js";

/**
 * The systems a user would pick instead of @wf, on the same PostgreSQL, the
 * same loop (one node stepping `steps` times) and the same state (a counter
 * and `stateBytes` of text): LangGraph.js checkpointing with PostgresSaver,
 * and DBOS Transact checkpointing each step's output in its system database.
 * Each is written the way its documentation shows; each system keeps its own
 * pool. They are devDependencies of the bench only, loaded when measured.
 */
export const PEERS = ["langgraph", "dbos"] as const;
export type PeerName = (typeof PEERS)[number];

export interface PeerOptions {
  /** Loop lengths; each is measured `rounds` times per system, systems taking turns. */
  steps: number[];
  rounds: number;
  stateBytes: number;
  peers: PeerName[];
  progress: (message: string) => void;
}

export interface PeerResult {
  system: string;
  steps: number;
  /** Median over the rounds of the loop's wall time divided by its steps, in ms. */
  msPerStep: number;
}

/** One system set up on the server: `loop(n)` runs a fresh n-step loop to its end. */
interface Loop {
  name: string;
  loop(steps: number): Promise<void>;
  close(): Promise<void>;
}

interface Counter extends SharedState {
  count: number;
  target: number;
  payload: string;
}

class Tick extends Node<Counter> {
  override cleanup(shared: Counter): void {
    shared.count += 1;
  }
}

async function wfLoop(url: string, schema: string, stateBytes: number): Promise<Loop> {
  const storage = new PostgresStorage({ connectionString: url, schema });
  await storage.migrate();
  return {
    name: "@wf (PostgresStorage)",
    async loop(steps) {
      const engine = await WorkflowEngine.create<Counter>({
        workflowId: "peer-loop",
        nodes: [new Tick({ id: "tick" })],
        edges: [{ from: "tick", to: "tick", when: (s: Counter) => s.count < s.target }],
        initialState: { count: 0, target: steps, payload: "x".repeat(stateBytes) },
        storage,
      });
      await engine.run();
      if (engine.shared.count !== steps) throw new Error(`@wf stopped at ${engine.shared.count}`);
    },
    close: () => storage.close(),
  };
}

async function langGraphLoop(url: string, schema: string, stateBytes: number): Promise<Loop> {
  const { Annotation, END, START, StateGraph } = await import("@langchain/langgraph");
  const { PostgresSaver } = await import("@langchain/langgraph-checkpoint-postgres");
  const checkpointer = PostgresSaver.fromConnString(url, { schema });
  await checkpointer.setup();
  const State = Annotation.Root({
    count: Annotation<number>(),
    target: Annotation<number>(),
    payload: Annotation<string>(),
  });
  // The node returns only what it changes, as LangGraph's documentation does.
  const graph = new StateGraph(State)
    .addNode("tick", (state: typeof State.State) => ({ count: state.count + 1 }))
    .addEdge(START, "tick")
    .addConditionalEdges("tick", (state: typeof State.State) =>
      state.count < state.target ? "tick" : END,
    )
    .compile({ checkpointer });
  return {
    name: "LangGraph.js (PostgresSaver)",
    async loop(steps) {
      const thread = randomBytes(8).toString("hex");
      const final = await graph.invoke(
        { count: 0, target: steps, payload: "x".repeat(stateBytes) },
        { configurable: { thread_id: thread }, recursionLimit: steps + 10 },
      );
      if (final.count !== steps) throw new Error(`LangGraph stopped at ${final.count}`);
    },
    close: () => checkpointer.end(),
  };
}

async function dbosLoop(url: string, schema: string, stateBytes: number): Promise<Loop> {
  const { DBOS } = await import("@dbos-inc/dbos-sdk");
  // Each step's output (the whole state) is what DBOS checkpoints.
  const loop = DBOS.registerWorkflow(
    async (steps: number, payload: string) => {
      let state = { count: 0, payload };
      for (let i = 0; i < steps; i++) {
        const before = state;
        state = await DBOS.runStep(
          async () => ({ count: before.count + 1, payload: before.payload }),
          {
            name: "tick",
          },
        );
      }
      return state.count;
    },
    { name: "peerLoop" },
  );
  DBOS.setConfig({
    name: "wf-bench",
    systemDatabaseUrl: url,
    systemDatabaseSchemaName: schema,
    logLevel: "error",
  });
  await DBOS.launch();
  return {
    name: "DBOS Transact",
    async loop(steps) {
      const count = await loop(steps, "x".repeat(stateBytes));
      if (count !== steps) throw new Error(`DBOS stopped at ${count}`);
    },
    close: () => DBOS.shutdown({ deregister: true }),
  };
}

const OPENERS: Record<PeerName, typeof wfLoop> = { langgraph: langGraphLoop, dbos: dbosLoop };

/**
 * Every system's loop at each length, systems taking turns within each round
 * so that all see the same machine load. Each system gets a schema of its
 * own on the test server, dropped afterwards.
 */
export async function benchPeers(options: PeerOptions): Promise<PeerResult[]> {
  const server = await findPostgres();
  const tag = randomBytes(4).toString("hex");
  const schemas: string[] = [];
  const loops: Loop[] = [];
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  try {
    const schemaFor = (name: string) => {
      const schema = `wf_bench_${name}_${tag}`;
      schemas.push(schema);
      return schema;
    };
    loops.push(await wfLoop(server.url, schemaFor("wf"), options.stateBytes));
    for (const peer of options.peers) {
      loops.push(await OPENERS[peer](server.url, schemaFor(peer), options.stateBytes));
    }
    // Warm-up, not measured: connections, JIT, prepared statements.
    for (const system of loops) await system.loop(20);
    const results: PeerResult[] = [];
    for (const steps of options.steps) {
      const times = new Map<string, number[]>(loops.map((system) => [system.name, []]));
      for (let round = 0; round < options.rounds; round++) {
        for (const system of loops) {
          const start = performance.now();
          await system.loop(steps);
          times.get(system.name)?.push((performance.now() - start) / steps);
          options.progress(`peers: ${system.name}, ${steps} steps, round ${round + 1}`);
        }
      }
      for (const [system, perStep] of times) {
        results.push({ system, steps, msPerStep: median(perStep) });
      }
    }
    return results;
  } finally {
    for (const system of loops) await system.close().catch(() => {});
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
    await server.stop();
  }
}
