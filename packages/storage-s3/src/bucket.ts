/**
 * The S3 requests the store makes, each one SDK command, with S3's answers
 * turned into values (absent, precondition failed) and every other failure
 * into a coded error: StorageUnavailableError for what may pass (network
 * errors, 5xx, throttling, timeouts), StorageMisconfiguredError for what will
 * not until someone changes the configuration (no such bucket, refused
 * credentials or permissions, a missing or wrong region). Each command carries
 * an abort signal, so a request, the SDK's retries included, never takes
 * longer than the store's timeout. Every HTTP attempt is counted through a
 * middleware on the command: a client the user handed us is never modified.
 */
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  type DeleteObjectsCommandOutput,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type PutObjectCommandOutput,
  type S3Client,
} from "@aws-sdk/client-s3";
import { StorageMisconfiguredError, StorageUnavailableError } from "@wf/core";

/** DeleteObjects takes at most this many keys. */
const DELETE_BATCH = 1000;
/** AWS answers 409 ConditionalRequestConflict when conditional writes to one key overlap; it asks for a retry. */
const CONFLICT_RETRIES = 4;
const CONFLICT_DELAY_MS = 50;

interface StoredObject {
  body: string;
  etag: string;
  /** User metadata (`x-amz-meta-*`), names lower-cased. */
  metadata: Record<string, string>;
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

/** Node's codes for a connection that failed, was refused, reset or not resolved: worth retrying later. */
const NETWORK_CODE = /^E[A-Z_]+$/;
/** Names the SDK and its HTTP handlers give requests that timed out or were cut off. */
const TRANSIENT_NAMES = new Set([
  "TimeoutError",
  "AbortError",
  "RequestTimeout",
  "NetworkingError",
]);
/** The SDK's own complaints about the region (missing, not a valid name), made before any request. */
const REGION_PROBLEM = /region/i;

export interface BucketOptions {
  client: S3Client;
  name: string;
  /** Names the store in errors. */
  storageName: string;
  /** Milliseconds one request may take, retries included. */
  timeout: number;
  countRequest: () => void;
}

export class Bucket {
  readonly #client: S3Client;
  readonly name: string;
  readonly #storageName: string;
  readonly #timeout: number;
  readonly #countRequest: () => void;

  constructor(options: BucketOptions) {
    this.#client = options.client;
    this.name = options.name;
    this.#storageName = options.storageName;
    this.#timeout = options.timeout;
    this.#countRequest = options.countRequest;
  }

  /** Where a key lives, for error messages. */
  location(key: string): string {
    return `s3://${this.name}/${key}`;
  }

  async get(key: string): Promise<StoredObject | null> {
    try {
      const command = new GetObjectCommand({ Bucket: this.name, Key: key });
      return await this.#send(command, async (r: GetObjectCommandOutput) => ({
        body: (await r.Body?.transformToString("utf-8")) ?? "",
        etag: r.ETag ?? "",
        metadata: r.Metadata ?? {},
      }));
    } catch (error) {
      if (isAbsent(error)) return null;
      throw this.#failure(error, `GET ${key}`);
    }
  }

  async head(key: string): Promise<ObjectHead | null> {
    try {
      const response = await this.#send<HeadObjectCommandOutput>(
        new HeadObjectCommand({ Bucket: this.name, Key: key }),
      );
      return { etag: response.ETag ?? "", metadata: response.Metadata ?? {} };
    } catch (error) {
      if (isAbsent(error)) return null;
      throw this.#failure(error, `HEAD ${key}`);
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
        const response = await this.#send<PutObjectCommandOutput>(command());
        return { written: true, etag: response.ETag ?? "" };
      } catch (error) {
        if (isPreconditionFailed(error)) return { written: false };
        // If-Match on a key that is gone: S3 answers 404 NoSuchKey.
        if (options.ifEtag !== undefined && isAbsent(error)) return { written: false };
        if (isConditionalConflict(error) && attempt < CONFLICT_RETRIES) {
          await delay(CONFLICT_DELAY_MS * (attempt + 1));
          continue;
        }
        throw this.#failure(error, `PUT ${key}`);
      }
    }
  }

  /** Deletes `key`; with `ifEtag`, only if it still has that ETag (false if not). Absent keys count as deleted. */
  async delete(key: string, ifEtag?: string): Promise<boolean> {
    try {
      await this.#send(new DeleteObjectCommand({ Bucket: this.name, Key: key, IfMatch: ifEtag }));
      return true;
    } catch (error) {
      if (isPreconditionFailed(error)) return false;
      if (isAbsent(error)) return true;
      // Conditional deletes are recent (AWS, 2025); a server without them may refuse the header.
      if (ifEtag !== undefined && statusOf(error) === 501) return this.delete(key);
      throw this.#failure(error, `DELETE ${key}`);
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
      let response: DeleteObjectsCommandOutput;
      try {
        response = await this.#send<DeleteObjectsCommandOutput>(
          new DeleteObjectsCommand({
            Bucket: this.name,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        );
      } catch (error) {
        throw this.#failure(error, `DELETE ${batch.length} keys from ${first}`);
      }
      const failed = response.Errors?.find((e) => e.Code !== "NoSuchKey");
      if (failed) {
        const reason =
          `${this.location(failed.Key ?? "?")} could not be deleted: ${failed.Code} ${failed.Message ?? ""}`.trim();
        throw failed.Code === "AccessDenied"
          ? new StorageMisconfiguredError(
              this.#storageName,
              `${reason}; ${misconfiguration(undefined, 403, "AccessDenied", "")}`,
            )
          : new StorageUnavailableError(this.#storageName, reason);
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
      const response = await this.#send<ListObjectsV2CommandOutput>(
        new ListObjectsV2Command({
          Bucket: this.name,
          Prefix: options.prefix,
          StartAfter: options.continuationToken ? undefined : options.startAfter,
          ContinuationToken: options.continuationToken ?? undefined,
          MaxKeys: options.maxKeys,
        }),
      );
      const keys = (response.Contents ?? []).flatMap((object) => (object.Key ? [object.Key] : []));
      return {
        keys,
        continuationToken: response.IsTruncated ? (response.NextContinuationToken ?? null) : null,
      };
    } catch (error) {
      throw this.#failure(error, `LIST ${options.prefix}`);
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

  /**
   * Sends `command` (and reads its answer with `read`) under an abort signal
   * of the store's timeout, counting each HTTP attempt it makes (retries
   * included: the counter sits below the retry middleware).
   */
  async #send<O>(command: object): Promise<O>;
  async #send<O, R>(command: object, read: (output: O) => Promise<R>): Promise<R>;
  async #send<O, R>(command: object, read?: (output: O) => Promise<R>): Promise<O | R> {
    // Typed loosely: every command has a middleware stack, but each with its own generics.
    const stack = (command as unknown as { middlewareStack: MiddlewareAdder }).middlewareStack;
    stack.add(
      (next) => (args) => {
        this.#countRequest();
        return next(args);
      },
      { step: "finalizeRequest", priority: "low", name: "wfCountRequests" },
    );
    const abortSignal = AbortSignal.timeout(this.#timeout);
    const send = this.#client.send.bind(this.#client) as unknown as (
      command: object,
      options: { abortSignal: AbortSignal },
    ) => Promise<O>;
    try {
      const output = await send(command, { abortSignal });
      // The body is read under the same deadline: a server may stall halfway through it.
      return read ? await read(output) : output;
    } catch (error) {
      // However the SDK or a handed-over client reports the abort (or the reset it causes).
      throw abortSignal.aborted ? new DeadlineExceeded(error) : error;
    }
  }

  /** The coded error for a failed request: misconfigured if retrying cannot help, else unavailable. */
  #failure(error: unknown, what: string): StorageUnavailableError | StorageMisconfiguredError {
    const status = statusOf(error);
    const name = (error as Error)?.name ?? "Error";
    const message = (error as Error)?.message || name;
    const where = `${what} in bucket "${this.name}"`;
    if (error instanceof DeadlineExceeded) {
      return new StorageUnavailableError(
        this.#storageName,
        `${where} got no answer within ${this.#timeout} ms (the store's \`timeout\`)`,
        { cause: error.cause },
      );
    }
    const advice = misconfiguration(error, status, name, message);
    if (advice !== null) {
      const answer = status ? `${status} ${name}` : name;
      return new StorageMisconfiguredError(
        this.#storageName,
        `${where} was refused (${answer}: ${message}); ${advice}`,
        { cause: error },
      );
    }
    const reason = status
      ? `${where} failed with ${status} ${name}: ${message}`
      : `${where} failed: ${message}`;
    return new StorageUnavailableError(this.#storageName, reason, { cause: error });
  }
}

/** A request the store's timeout cut short; `cause` is how the client reported it. */
class DeadlineExceeded extends Error {
  constructor(cause: unknown) {
    super("the store's timeout passed", { cause });
  }
}

/**
 * What to check, when `error` is one that retrying cannot fix; null for a
 * network error, a 5xx, throttling or a timeout, which may pass.
 */
function misconfiguration(
  error: unknown,
  status: number | undefined,
  name: string,
  message: string,
): string | null {
  if (status === undefined) {
    const code = (error as { code?: unknown })?.code;
    if ((typeof code === "string" && NETWORK_CODE.test(code)) || TRANSIENT_NAMES.has(name)) {
      return null;
    }
    if (name === "CredentialsProviderError") {
      return "give the store credentials (clientConfig.credentials, or the SDK's default chain: environment, shared config, SSO, instance or task role)";
    }
    if (REGION_PROBLEM.test(message)) {
      return "set clientConfig.region to the bucket's region (any valid name, such as us-east-1, for MinIO and most S3-compatible servers)";
    }
    return "check the client configuration (endpoint, region, credentials)";
  }
  // A garbled answer to a request that succeeded, or a server error: may pass.
  if (status < 300 || (status >= 500 && status !== 501)) return null;
  if (status === 408 || status === 409 || status === 429 || status === 307) return null;
  if (name === "SlowDown" || /throttl/i.test(name) || name === "RequestTimeout") return null;
  switch (name) {
    case "NoSuchBucket":
      return "create the bucket, or check `bucket`, the endpoint and the region";
    case "InvalidAccessKeyId":
    case "SignatureDoesNotMatch":
    case "InvalidToken":
    case "ExpiredToken":
    case "TokenRefreshRequired":
      return "check the access key id and secret (clientConfig.credentials or the SDK's default chain), and that a session token has not expired";
    case "AccessDenied":
    case "AllAccessDisabled":
    case "AccountProblem":
      return "allow these credentials s3:GetObject, s3:PutObject and s3:DeleteObject on the prefix and s3:ListBucket on the bucket (see the README's IAM policy)";
    case "AuthorizationHeaderMalformed":
    case "PermanentRedirect":
    case "IllegalLocationConstraintException":
      return "set clientConfig.region to the bucket's region, and check the endpoint";
    case "RequestTimeTooSkewed":
      return "set this machine's clock right";
    case "NotImplemented":
      return "use a server with S3's conditional writes (If-None-Match and If-Match on PutObject; see the README's requirements)";
  }
  return "check the bucket, endpoint, region and credentials";
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
