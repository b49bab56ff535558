/**
 * The S3 requests the store makes, each one SDK command, with S3's answers
 * turned into values (absent, precondition failed) and every other failure
 * into StorageUnavailableError. Every HTTP attempt, retries included, is
 * counted through a middleware on the command, so a client the user handed
 * us is never modified.
 */
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { StorageUnavailableError } from "@wf/core";

/** DeleteObjects takes at most this many keys. */
const DELETE_BATCH = 1000;
/** AWS answers 409 ConditionalRequestConflict when conditional writes to one key overlap; it asks for a retry. */
const CONFLICT_RETRIES = 4;
const CONFLICT_DELAY_MS = 50;

interface StoredObject {
  body: string;
  etag: string;
}

interface ObjectHead {
  etag: string;
  /** User metadata (`x-amz-meta-*`), names lower-cased. */
  metadata: Record<string, string>;
}

interface PutOptions {
  /** Write only if the key is absent (`If-None-Match: *`). */
  ifAbsent?: boolean;
  /** Write only if the object still has this ETag (`If-Match`). */
  ifEtag?: string;
  metadata?: Record<string, string>;
}

/** A write either happened (with the new ETag) or its precondition did not hold. */
type PutResult = { written: true; etag: string } | { written: false };

interface ListPage {
  keys: string[];
  /** Pass back as `continuationToken`; null on the last page. */
  continuationToken: string | null;
}

interface MiddlewareAdder {
  add(
    middleware: (next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>,
    options: { step: "finalizeRequest"; priority: "low"; name: string },
  ): void;
}

export class Bucket {
  readonly #client: S3Client;
  readonly name: string;
  readonly #storageName: string;
  readonly #countRequest: () => void;

  constructor(client: S3Client, name: string, storageName: string, countRequest: () => void) {
    this.#client = client;
    this.name = name;
    this.#storageName = storageName;
    this.#countRequest = countRequest;
  }

  /** Where a key lives, for error messages. */
  location(key: string): string {
    return `s3://${this.name}/${key}`;
  }

  async get(key: string): Promise<StoredObject | null> {
    try {
      const response = await this.#client.send(
        this.#counted(new GetObjectCommand({ Bucket: this.name, Key: key })),
      );
      return {
        body: (await response.Body?.transformToString("utf-8")) ?? "",
        etag: response.ETag ?? "",
      };
    } catch (error) {
      if (isAbsent(error)) return null;
      throw this.#unavailable(error, `GET ${key}`);
    }
  }

  async head(key: string): Promise<ObjectHead | null> {
    try {
      const response = await this.#client.send(
        this.#counted(new HeadObjectCommand({ Bucket: this.name, Key: key })),
      );
      return { etag: response.ETag ?? "", metadata: response.Metadata ?? {} };
    } catch (error) {
      if (isAbsent(error)) return null;
      throw this.#unavailable(error, `HEAD ${key}`);
    }
  }

  async put(key: string, body: string, options: PutOptions = {}): Promise<PutResult> {
    const command = () =>
      new PutObjectCommand({
        Bucket: this.name,
        Key: key,
        Body: body,
        ContentType: "application/json; charset=utf-8",
        Metadata: options.metadata,
        IfNoneMatch: options.ifAbsent ? "*" : undefined,
        IfMatch: options.ifEtag,
      });
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await this.#client.send(this.#counted(command()));
        return { written: true, etag: response.ETag ?? "" };
      } catch (error) {
        if (isPreconditionFailed(error)) return { written: false };
        // If-Match on a key that is gone: S3 answers 404 NoSuchKey.
        if (options.ifEtag !== undefined && isAbsent(error)) return { written: false };
        if (isConditionalConflict(error) && attempt < CONFLICT_RETRIES) {
          await delay(CONFLICT_DELAY_MS * (attempt + 1));
          continue;
        }
        throw this.#unavailable(error, `PUT ${key}`);
      }
    }
  }

  /** Deletes `key`; with `ifEtag`, only if it still has that ETag (false if not). Absent keys count as deleted. */
  async delete(key: string, ifEtag?: string): Promise<boolean> {
    try {
      await this.#client.send(
        this.#counted(new DeleteObjectCommand({ Bucket: this.name, Key: key, IfMatch: ifEtag })),
      );
      return true;
    } catch (error) {
      if (isPreconditionFailed(error)) return false;
      if (isAbsent(error)) return true;
      // Conditional deletes are recent (AWS, 2025); a server without them may refuse the header.
      if (ifEtag !== undefined && statusOf(error) === 501) return this.delete(key);
      throw this.#unavailable(error, `DELETE ${key}`);
    }
  }

  async deleteAll(keys: readonly string[]): Promise<void> {
    for (let at = 0; at < keys.length; at += DELETE_BATCH) {
      const batch = keys.slice(at, at + DELETE_BATCH);
      const first = batch[0] as string;
      if (batch.length === 1) {
        await this.delete(first);
        continue;
      }
      let response: { Errors?: { Key?: string; Code?: string; Message?: string }[] };
      try {
        response = await this.#client.send(
          this.#counted(
            new DeleteObjectsCommand({
              Bucket: this.name,
              Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
            }),
          ),
        );
      } catch (error) {
        throw this.#unavailable(error, `DELETE ${batch.length} keys from ${first}`);
      }
      const failed = response.Errors?.find((e) => e.Code !== "NoSuchKey");
      if (failed) {
        throw new StorageUnavailableError(
          this.#storageName,
          `could not delete ${this.location(failed.Key ?? "?")}: ${failed.Code} ${failed.Message ?? ""}`.trim(),
        );
      }
    }
  }

  async list(options: {
    prefix: string;
    startAfter?: string;
    continuationToken?: string | null;
    maxKeys: number;
  }): Promise<ListPage> {
    try {
      const response = await this.#client.send(
        this.#counted(
          new ListObjectsV2Command({
            Bucket: this.name,
            Prefix: options.prefix,
            StartAfter: options.continuationToken ? undefined : options.startAfter,
            ContinuationToken: options.continuationToken ?? undefined,
            MaxKeys: options.maxKeys,
          }),
        ),
      );
      const keys = (response.Contents ?? []).flatMap((object) => (object.Key ? [object.Key] : []));
      return {
        keys,
        continuationToken: response.IsTruncated ? (response.NextContinuationToken ?? null) : null,
      };
    } catch (error) {
      throw this.#unavailable(error, `LIST ${options.prefix}`);
    }
  }

  /** Every key under `prefix`, page by page. */
  async *keys(prefix: string, startAfter?: string): AsyncGenerator<string[]> {
    let continuationToken: string | null = null;
    do {
      const page: ListPage = await this.list({
        prefix,
        startAfter,
        continuationToken,
        maxKeys: 1000,
      });
      if (page.keys.length > 0) yield page.keys;
      continuationToken = page.continuationToken;
    } while (continuationToken);
  }

  /** `command`, counting each HTTP attempt it makes (retries included: it sits below the retry middleware). */
  #counted<C extends object>(command: C): C {
    // Typed loosely: every command has a middleware stack, but each with its own generics.
    const stack = (command as unknown as { middlewareStack: MiddlewareAdder }).middlewareStack;
    stack.add(
      (next) => (args) => {
        this.#countRequest();
        return next(args);
      },
      { step: "finalizeRequest", priority: "low", name: "wfCountRequests" },
    );
    return command;
  }

  #unavailable(error: unknown, what: string): StorageUnavailableError {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    const name = (error as Error).name;
    const reason = status
      ? `${what} in bucket "${this.name}" failed with ${status} ${name}: ${(error as Error).message}`
      : `${what} in bucket "${this.name}" failed: ${(error as Error).message || name}`;
    return new StorageUnavailableError(this.#storageName, reason, { cause: error });
  }
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function isAbsent(error: unknown): boolean {
  const name = (error as Error)?.name;
  return (
    name === "NoSuchKey" ||
    name === "NotFound" ||
    (statusOf(error) === 404 && name !== "NoSuchBucket")
  );
}

function isPreconditionFailed(error: unknown): boolean {
  return statusOf(error) === 412 || (error as Error)?.name === "PreconditionFailed";
}

function isConditionalConflict(error: unknown): boolean {
  return statusOf(error) === 409 && (error as Error)?.name === "ConditionalRequestConflict";
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
