import { randomBytes } from "node:crypto";
import { Node, type SharedState, WorkflowEngine } from "@wf/core";
import type { BenchTarget } from "./target.js";

export interface BytesResult {
  target: string;
  stateBytes: number;
  /** Growth of what the store holds, per step; null when the store cannot tell. */
  storedPerStep: number | null;
  /** The step record's JSON, as the engine hands it to the store. */
  recordBytes: number;
  /** The same record with the state replaced by only what the step changed. */
  deltaBytes: number;
}

interface Counter extends SharedState {
  count: number;
  payload: string;
}

class Tick extends Node<Counter> {
  override cleanup(shared: Counter): void {
    shared.count += 1;
  }
}

/**
 * Text that compresses about as well as real data does (base64 of random
 * bytes), so a store that compresses (PostgreSQL's TOAST) is not flattered
 * by a run of one repeated character.
 */
function incompressible(length: number): string {
  return randomBytes(Math.ceil((length * 3) / 4))
    .toString("base64")
    .slice(0, length);
}

/**
 * Bytes per step of a one-node loop whose state carries `stateBytes` of text
 * and a counter: what the store keeps (where it can say) and the record's
 * JSON, beside what a delta-encoded record (the counter alone) would be.
 */
export async function benchBytes(
  target: BenchTarget,
  stateBytes: number,
  steps: number,
): Promise<BytesResult> {
  const opened = await target.open();
  try {
    const engine = await WorkflowEngine.create<Counter>({
      workflowId: `bench-bytes-${Date.now().toString(36)}`,
      nodes: [new Tick({ id: "tick" })],
      edges: [{ from: "tick", to: "tick" }],
      initialState: { count: 0, payload: incompressible(stateBytes) },
      storage: opened.storage,
    });
    await engine.step();
    const before = await opened.bytesStored?.();
    for (let i = 0; i < steps; i++) await engine.step();
    const after = await opened.bytesStored?.();
    const record = await opened.storage.getLatestStep(engine.workflowId, engine.runId);
    const delta = { ...record, shared: { count: (record.shared as Counter).count } };
    return {
      target: target.name,
      stateBytes,
      storedPerStep:
        before === undefined || after === undefined ? null : Math.round((after - before) / steps),
      recordBytes: Buffer.byteLength(JSON.stringify(record)),
      deltaBytes: Buffer.byteLength(JSON.stringify(delta)),
    };
  } finally {
    await opened.close();
  }
}
