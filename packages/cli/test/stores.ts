// The stores every command is tested on: a temporary directory, and a fresh
// schema, key prefix and object prefix on the real PostgreSQL, Redis and S3
// servers the global setup found or started.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { WorkflowStorage } from "@wf/core";
import { openStore } from "@wf/store-url";
import { inject } from "vitest";

export interface TestStore {
  name: string;
  /** The store URL given to `wf --store`. */
  url: string;
  /** Opens a second handle on the same store, to check what was stored. */
  open(): Promise<WorkflowStorage>;
  /** Removes what the tests wrote. */
  dispose(): Promise<void>;
}

/** The S3 SDK reads credentials from its default chain, which includes these variables. */
function exportS3Credentials(): void {
  const { accessKeyId, secretAccessKey } = inject("s3");
  if (accessKeyId && secretAccessKey) {
    process.env.AWS_ACCESS_KEY_ID = accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = secretAccessKey;
  }
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
}

const unique = () => `${inject("runLabel")}_${randomBytes(3).toString("hex")}`;

export const STORE_KINDS = ["fs", "postgres", "redis", "s3"] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

/** A new, empty store of `kind`. */
export async function makeStore(kind: StoreKind): Promise<TestStore> {
  exportS3Credentials();
  let url: string;
  let cleanup: () => Promise<void> = async () => {};
  if (kind === "fs") {
    const dir = await mkdtemp(join(tmpdir(), "wf-cli-"));
    url = `file:${dir}`;
    cleanup = () => rm(dir, { recursive: true, force: true });
  } else if (kind === "postgres") {
    const parsed = new URL(inject("postgresUrl"));
    parsed.searchParams.set("schema", unique());
    url = parsed.href;
  } else if (kind === "redis") {
    const parsed = new URL(inject("redisUrl"));
    parsed.searchParams.set("prefix", `${unique()}:`);
    url = parsed.href;
  } else {
    const s3 = inject("s3");
    url = `s3://${s3.bucket}/${unique()}?region=${s3.region}&endpoint=${encodeURIComponent(s3.endpoint)}&forcePathStyle=${s3.forcePathStyle}`;
  }
  const store: TestStore = {
    name: kind,
    url,
    open: () => openStore(url),
    async dispose() {
      if (kind !== "fs") {
        // Delete every run the tests left, through the contract, so any store is cleaned the same way.
        const storage = await store.open();
        try {
          for (const workflowId of (await storage.listWorkflows({ limit: 1000 })).items) {
            let cursor: string | null = null;
            do {
              const page = await storage.listRuns(workflowId, { cursor, limit: 1000 });
              for (const run of page.items) await storage.deleteRun(workflowId, run.runId);
              cursor = page.nextCursor;
            } while (cursor);
          }
        } finally {
          await storage.close();
        }
      }
      await cleanup();
    },
  };
  return store;
}
