import { StorageMisconfiguredError, type WorkflowStorage } from "@wf/core";
import { maskPassword } from "@wf/core/storage";
import { ADAPTERS, type Adapter, type StoreClass } from "./adapters.js";

/**
 * A URL's scheme. Two letters at least, so that a Windows path (`C:\logs`)
 * stays a path.
 */
const SCHEME = /^([a-z][a-z0-9+.-]+):/i;

/** The schemes openStore knows, with their `:`. */
export const SUPPORTED_SCHEMES: readonly string[] = ADAPTERS.flatMap((adapter) =>
  adapter.schemes.map((scheme) => `${scheme}:`),
);

/**
 * Opens the store `url` names: `file:./logs` or a plain path,
 * `postgres://…?schema=…`, `redis://…/db?prefix=…` (`rediss://`),
 * `s3://bucket/prefix?region=…&endpoint=…`. The adapter package is loaded
 * now, and only this one; `options` are its other options (a logger,
 * `ttlSeconds`, …), passed to its `fromUrl`.
 *
 * Rejects with a TypeError for an unknown scheme (listing the supported
 * ones) and for what the adapter refuses, and with STORAGE_MISCONFIGURED
 * naming the package to install when the adapter is not installed. No
 * message includes the URL's password.
 */
export function openStore(url: string, options?: object): Promise<WorkflowStorage> {
  return openStoreWith(ADAPTERS, url, options);
}

/** openStore on a given adapter table: the seam tests use to see a missing package. */
export async function openStoreWith(
  adapters: readonly Adapter[],
  url: string,
  options?: object,
): Promise<WorkflowStorage> {
  if (typeof url !== "string" || url.length === 0) {
    throw new TypeError(`openStore needs a store URL or path, got ${JSON.stringify(url)}.`);
  }
  const scheme = SCHEME.exec(url)?.[1]?.toLowerCase() ?? "file";
  const adapter = adapters.find((candidate) => candidate.schemes.includes(scheme));
  if (!adapter) {
    throw new TypeError(
      `openStore: ${JSON.stringify(maskPassword(url))} has the unknown scheme "${scheme}:"; supported: ${adapters
        .flatMap((known) => known.schemes.map((name) => `${name}:`))
        .join(", ")} (or a plain path for the file system).`,
    );
  }
  let store: StoreClass;
  try {
    store = await adapter.load();
  } catch (error) {
    if (!isMissingPackage(error, adapter.packageName)) throw error;
    throw new StorageMisconfiguredError(
      "openStore",
      `${scheme}: URLs need the package ${adapter.packageName}, which is not installed: npm install ${adapter.packageName}`,
      { cause: error },
    );
  }
  return store.fromUrl(url, options);
}

/**
 * Whether `error` says that `packageName` itself cannot be found (not a
 * package it depends on, whose error is the adapter's own to report).
 */
function isMissingPackage(error: unknown, packageName: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (
    (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") &&
    typeof message === "string" &&
    (message.includes(`'${packageName}'`) || message.includes(`"${packageName}"`))
  );
}
