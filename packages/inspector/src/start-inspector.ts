import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { WorkflowSpec, WorkflowStorage } from "@wf/core";
import { missingStorageMethods } from "@wf/core/storage";
import type { SSEStreamingApi } from "hono/streaming";
import { createApp } from "./app.js";
import { indexDefinitions } from "./definitions.js";
import { loadPageFiles } from "./page-files.js";
import { generateToken, TOKEN_PATTERN } from "./security.js";

export interface InspectorOptions {
  /** The store to inspect. Read only through the storage contract, so any adapter works. */
  storage: WorkflowStorage;
  /**
   * Workflow definitions (what `WorkflowEngine.create` takes, without the
   * run fields). With one for a run's workflow, the page can step, run,
   * fork and answer; without, those controls say why they are unavailable.
   */
  definitions?: readonly WorkflowSpec[];
  /** Address to listen on. Default `"127.0.0.1"`. Any non-loopback host requires the token on every request. */
  host?: string;
  /** Port to listen on. Default 4680; 0 picks a free one. */
  port?: number;
  /** Token the page presents (16+ of `A-Z a-z 0-9 _ -`). Default: 24 random bytes, base64url. */
  token?: string;
}

export interface Inspector {
  /** Address to open in a browser; carries the token so the page can present it. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly token: string;
  /** Stops listening and ends live streams. Leaves the storage open: it belongs to the caller. */
  close(): Promise<void>;
}

export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_PORT = 4680;

const OPTION_KEYS = new Set(["storage", "definitions", "host", "port", "token"]);

function checkOptions(options: InspectorOptions): void {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      "startInspector takes an options object: { storage, definitions?, host?, port?, token? }.",
    );
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) {
      throw new TypeError(
        `Unknown inspector option ${JSON.stringify(key)}; the options are ${[...OPTION_KEYS].join(", ")}.`,
      );
    }
  }
  const { storage, host, port, token } = options;
  // The inspector reads every listing and writes too (cancel, time travel).
  const missing = missingStorageMethods(storage);
  if (missing.length > 0) {
    throw new TypeError(
      `storage must be a WorkflowStorage (it has no ${missing.join(", ")} method${missing.length > 1 ? "s" : ""}).`,
    );
  }
  if (host !== undefined && (typeof host !== "string" || host.length === 0)) {
    throw new TypeError(`host must be a non-empty string, got ${JSON.stringify(host)}.`);
  }
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
    throw new RangeError(`port must be an integer from 0 to 65535, got ${JSON.stringify(port)}.`);
  }
  if (token !== undefined && (typeof token !== "string" || !TOKEN_PATTERN.test(token))) {
    throw new TypeError(
      "token must be 16 to 256 characters of A-Z a-z 0-9 _ -; leave it out to get a random one.",
    );
  }
}

/** Formats a host for a URL: IPv6 addresses go in brackets. */
function urlHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/**
 * Starts the inspector: a web page over the journal in `storage`, served on
 * 127.0.0.1 unless told otherwise. Resolves once it listens.
 */
export async function startInspector(options: InspectorOptions): Promise<Inspector> {
  checkOptions(options);
  const host = options.host ?? DEFAULT_HOST;
  const token = options.token ?? generateToken();
  const definitions = indexDefinitions(options.definitions);
  const page = loadPageFiles();
  const streams = new Set<SSEStreamingApi>();
  let port = options.port ?? DEFAULT_PORT;
  const app = createApp({
    storage: options.storage,
    definitions,
    host,
    token,
    page,
    port: () => port,
    streams,
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const started = serve({ fetch: app.fetch, hostname: host, port }, () => {
      resolve(started as Server);
    }) as Server;
    started.once("error", (error: NodeJS.ErrnoException) => {
      const hint =
        error.code === "EADDRINUSE"
          ? ` Port ${port} is taken: pass another port (0 picks a free one).`
          : "";
      reject(
        new Error(`The inspector could not listen on ${host}:${port}: ${error.message}.${hint}`, {
          cause: error,
        }),
      );
    });
  });
  port = (server.address() as AddressInfo).port;
  const url = `http://${urlHost(host === "0.0.0.0" || host === "::" ? DEFAULT_HOST : host)}:${port}/?token=${token}`;
  let closing: Promise<void> | null = null;
  return {
    url,
    host,
    port,
    token,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const stream of streams) stream.abort();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
