import type { WorkflowStorage } from "@wf/core";
import type { StoreKind, StoreSpec } from "./stores.js";

/** The record `damage` replaces: a run's metadata or one of its steps. */
export interface DamageTarget {
  workflowId: string;
  runId: string;
  record: "metadata" | number;
}

/**
 * One store, provisioned for the torture on a namespace of its own (a
 * directory, schema, key prefix). Each kind contributes one file in
 * `targets/`.
 */
export interface StoreTarget {
  kind: StoreKind | "memory";
  /** Where the data lives, for the table's title. */
  where: string;
  /** For child processes; null for a store that lives in this process only. */
  spec: StoreSpec | null;
  /** A new store instance on the namespace's data. */
  open(): Promise<WorkflowStorage>;
  /**
   * Writes `text` where the record's JSON is kept, behind the store's back
   * (as a disk, an operator or another program would), keeping the store's
   * bookkeeping beside it; removes the record when `text` is null.
   */
  damage(target: DamageTarget, text: string | null): Promise<void>;
  /** Removes everything written in the namespace and stops what was started for it. */
  dispose(): Promise<void>;
}

type Provider = () => Promise<{ provision(label: string): Promise<StoreTarget> }>;

/** Each kind's file, loaded only when asked for, so a run on fs loads no database driver. */
const PROVIDERS: Record<StoreTarget["kind"], Provider> = {
  memory: () => import("./targets/memory.js"),
  fs: () => import("./targets/fs.js"),
  postgres: () => import("./targets/postgres.js"),
  redis: () => import("./targets/redis.js"),
  s3: () => import("./targets/s3.js"),
};

/** Provisions a target of `kind`; `label` goes into its namespace's name. */
export async function provisionTarget(
  kind: StoreTarget["kind"],
  label: string,
): Promise<StoreTarget> {
  const { provision } = await PROVIDERS[kind]();
  return provision(label);
}

/** Runs `work` on a fresh store of `target`, closing it afterwards. */
export async function withStore<T>(
  target: StoreTarget,
  work: (storage: WorkflowStorage) => Promise<T>,
): Promise<T> {
  const storage = await target.open();
  try {
    return await work(storage);
  } finally {
    await storage.close();
  }
}
