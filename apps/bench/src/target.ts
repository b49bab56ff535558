import type { WorkflowStorage } from "@wf/core";

/**
 * One backend the benchmark measures. Each adapter contributes one file in
 * `targets/` exporting `target`. The harness times the adapter through the
 * engine and times `baseline` doing the same durable write the cheapest raw
 * way the backend allows, in the same process, so the ratio is meaningful.
 */
export interface BenchTarget {
  /** Row label, e.g. "fs", "postgres". */
  name: string;
  /** Opens a store on an empty namespace; `close` also removes what the run wrote. */
  open(options?: OpenOptions): Promise<OpenedTarget>;
}

export interface OpenOptions {
  /**
   * Connections of one pool that the store and the raw writes share (the
   * concurrency measurement). Without it each gets its own connection, as a
   * lone writer would. Backends without a pool ignore it.
   */
  connections?: number;
}

export interface OpenedTarget {
  storage: WorkflowStorage;
  /** Writes `bytes` once, as durably as the adapter commits a step (e.g. write + fsync + rename; one INSERT; one SET; one PutObject). */
  baselineWrite(bytes: string, i: number): Promise<void>;
  /**
   * Bytes the store (not the baseline) holds in this namespace, if the
   * backend can tell (e.g. on-disk size); the harness reports the growth per
   * step. Without it, bytes per step is the record's JSON length.
   */
  bytesStored?(): Promise<number>;
  /** Requests sent to the backend so far, if the adapter can count them (S3). */
  requests?(): number;
  close(): Promise<void>;
}
