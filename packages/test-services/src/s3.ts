/**
 * An S3-protocol server for adapter tests: the endpoint named
 * by WF_TEST_S3_ENDPOINT if set (MinIO, AWS, R2, …), else a private s3rver
 * started in this process on a free loopback port. `startS3` starts a private
 * one explicitly, for tests that stop, kill or restart their server.
 *
 * There is no standard local port to probe: S3-protocol servers listen on
 * different ports (MinIO 9000, s3rver 4568, LocalStack 4566), need their own
 * credentials, and may lack conditional writes. A private s3rver can always
 * be had, since it is an npm dependency of this package.
 *
 * TEST INFRASTRUCTURE, not a production server: s3rver 3.7 ignores the
 * conditional-write headers S3 honours and cannot paginate ListObjectsV2 on
 * Node 17+ (its continuation tokens use DES, which OpenSSL 3 dropped). So the
 * endpoint handed out is a small HTTP proxy in front of s3rver that gives AWS's
 * documented semantics: it serialises requests per key, so a check and the
 * write it guards are atomic, and answers
 * - `If-None-Match: *` on PUT of an existing key: 412 PreconditionFailed;
 * - `If-Match: <etag>` on PUT or DELETE: 404 NoSuchKey if the key is absent,
 *   412 PreconditionFailed if its ETag differs;
 * - ListObjectsV2: translated to a V1 listing with a marker, with
 *   `NextContinuationToken` carrying the last key returned.
 * It also hides two races of s3rver's file store that S3 does not have:
 * s3rver answers a PUT before the object's bytes are all written (so the
 * proxy holds the answer until a HEAD shows the full length: read-after-write
 * consistency), and a DELETE removes directories that have just become empty
 * while a PUT or a listing may be using them (so deletes run alone).
 * Everything else is forwarded unchanged.
 *
 * For tests of a client's retry path, a private server can also answer the
 * next conditional PUTs with the 409 ConditionalRequestConflict AWS gives
 * when conditional writes to one key overlap (`failNextConditionalWrites`);
 * off unless asked for.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { stat } from "node:fs/promises";
import {
  Agent,
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from "node:http";
import { createRequire } from "node:module";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.js";

const HOST = "127.0.0.1";
const REGION = "us-east-1";
/** s3rver accepts any signature made with this key pair. */
const S3RVER_KEY = "S3RVER";

const HOW_TO_PROVIDE =
  "Set WF_TEST_S3_ENDPOINT (with WF_TEST_S3_BUCKET, and WF_TEST_S3_REGION, " +
  "WF_TEST_S3_ACCESS_KEY_ID, WF_TEST_S3_SECRET_ACCESS_KEY as needed) to an S3-compatible " +
  "server with conditional writes (MinIO, AWS S3, R2), or install the `s3rver` npm package " +
  "so a private one can be started in process.";

/** Everything a client needs to reach the server; plain data, so it can be handed to workers and child processes. */
export interface S3TestConfig {
  endpoint: string;
  region: string;
  bucket: string;
  /** Absent: the SDK's default credential chain. */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Path-style URLs (`http://host/bucket/key`), which s3rver and MinIO need. */
  forcePathStyle: boolean;
}

export interface FoundS3 {
  config: S3TestConfig;
  /** Where it came from: the environment variables or a private server. */
  source: "env" | "private";
  /** Stops the server if it is a private one; leaves any other alone. */
  stop(): Promise<void>;
}

export interface PrivateS3 {
  config: S3TestConfig;
  /** Port of the endpoint (the proxy in front of s3rver). */
  port: number;
  /** s3rver's data directory, kept across restarts and removed by `stop`. */
  dir: string;
  /** Drops the endpoint at once, resetting open connections, as a crash would. Data stays. */
  kill(): Promise<void>;
  /** Listens again on the same port, after `kill`. */
  restart(): Promise<void>;
  /** Stops everything and removes the data directory. Idempotent. */
  stop(): Promise<void>;
  /**
   * Answers the next `count` PUTs that carry `If-None-Match` or `If-Match`
   * with 409 ConditionalRequestConflict, writing nothing, as AWS does when
   * conditional writes to one key overlap. Replaces any still pending; 0
   * turns the injection off.
   */
  failNextConditionalWrites(count: number): void;
  /** How many injected 409s have been answered so far. */
  readonly injectedConflicts: number;
}

export interface StartS3Options {
  /** Bucket created at start. Default "wf-test". */
  bucket?: string;
}

/** The S3 server tests should use, in the order above; throws saying how to provide one if none can be had. */
export async function findS3(): Promise<FoundS3> {
  const endpoint = process.env.WF_TEST_S3_ENDPOINT;
  if (endpoint) {
    const bucket = process.env.WF_TEST_S3_BUCKET;
    if (!bucket) {
      throw new Error(`WF_TEST_S3_ENDPOINT is set but WF_TEST_S3_BUCKET is not. ${HOW_TO_PROVIDE}`);
    }
    const config: S3TestConfig = {
      endpoint,
      bucket,
      region: process.env.WF_TEST_S3_REGION ?? REGION,
      forcePathStyle: process.env.WF_TEST_S3_FORCE_PATH_STYLE !== "false",
    };
    const accessKeyId = process.env.WF_TEST_S3_ACCESS_KEY_ID;
    const secretAccessKey = process.env.WF_TEST_S3_SECRET_ACCESS_KEY;
    if (accessKeyId && secretAccessKey) Object.assign(config, { accessKeyId, secretAccessKey });
    return { config, source: "env", stop: async () => {} };
  }
  let server: PrivateS3;
  try {
    server = await startS3();
  } catch (error) {
    throw new Error(
      `Could not start a private s3rver: ${(error as Error).message}. ${HOW_TO_PROVIDE}`,
      {
        cause: error,
      },
    );
  }
  return { config: server.config, source: "private", stop: () => server.stop() };
}

interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
  /** Its file store, which the proxy asks directly rather than over HTTP. */
  store: ObjectFiles;
}

/** The part of s3rver's file store the proxy uses. */
interface ObjectFiles {
  /** Rejects (ENOENT) if the object does not exist. */
  getMetadata(bucket: string, key: string): Promise<{ etag: string }>;
  getResourcePath(bucket: string, key: string, resource: "object"): string;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

/** Starts s3rver on a free loopback port, and the conditional proxy in front of it on another. */
export async function startS3(options: StartS3Options = {}): Promise<PrivateS3> {
  const bucket = options.bucket ?? "wf-test";
  // s3rver ships no types; this is the part of its API used here.
  const S3rver = createRequire(import.meta.url)("s3rver") as S3rverConstructor;
  const dir = mkdtempSync(join(tmpdir(), "wf-s3rver-"));
  const s3rver = new S3rver({
    address: HOST,
    port: 0,
    silent: true,
    directory: dir,
    vhostBuckets: false,
    configureBuckets: [{ name: bucket }],
  });
  let upstreamPort: number;
  try {
    upstreamPort = (await s3rver.run()).port;
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const port = await freePort(HOST);
  const proxy = new ConditionalProxy(upstreamPort, s3rver.store);
  try {
    await proxy.listen(port);
  } catch (error) {
    await s3rver.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  let stopped = false;
  return {
    config: {
      endpoint: `http://${HOST}:${port}`,
      region: REGION,
      bucket,
      accessKeyId: S3RVER_KEY,
      secretAccessKey: S3RVER_KEY,
      forcePathStyle: true,
    },
    port,
    dir,
    kill: () => proxy.close(),
    restart: () => proxy.listen(port),
    failNextConditionalWrites: (count) => proxy.failNextConditionalWrites(count),
    get injectedConflicts() {
      return proxy.injectedConflicts;
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await proxy.close();
      proxy.destroy();
      await s3rver.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Upstream {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** The AWS semantics s3rver lacks, in front of it (see the file header). */
class ConditionalProxy {
  readonly #upstreamPort: number;
  readonly #files: ObjectFiles;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 64 });
  /** Tail of the queue of requests per object key. */
  readonly #queues = new Map<string, Promise<void>>();
  readonly #sockets = new Set<Socket>();
  /** Deletes take it exclusively; writes and listings share it. */
  readonly #directories = new SharedLock();
  #server: Server | null = null;
  /** Conditional PUTs still to be refused with 409 (`failNextConditionalWrites`). */
  #conflictsToInject = 0;
  #injectedConflicts = 0;

  constructor(upstreamPort: number, files: ObjectFiles) {
    this.#upstreamPort = upstreamPort;
    this.#files = files;
  }

  listen(port: number): Promise<void> {
    if (this.#server) return Promise.reject(new Error(`the S3 proxy on port ${port} is running`));
    const server = createServer((req, res) => {
      this.#handle(req, res).catch((error: Error) => {
        if (!res.headersSent) sendError(res, 500, "InternalError", error.message);
        else res.destroy(error);
      });
    });
    server.on("connection", (socket) => {
      this.#sockets.add(socket);
      socket.once("close", () => this.#sockets.delete(socket));
    });
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, HOST, () => resolve());
    });
  }

  /** Stops listening and resets open connections. */
  close(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (!server) return Promise.resolve();
    for (const socket of this.#sockets) socket.destroy();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  destroy(): void {
    this.#agent.destroy();
  }

  failNextConditionalWrites(count: number): void {
    if (!Number.isInteger(count) || count < 0) {
      throw new RangeError(`count must be a non-negative integer, got ${count}`);
    }
    this.#conflictsToInject = count;
  }

  get injectedConflicts(): number {
    return this.#injectedConflicts;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://proxy");
    const [, rawBucket = "", ...keyParts] = url.pathname.split("/");
    const bucket = decodeURIComponent(rawBucket);
    const key = decodeURIComponent(keyParts.join("/"));
    if (key) {
      await this.#exclusively([`${bucket}/${key}`], () =>
        this.#objectRequest(req, res, bucket, key),
      );
    } else if (req.method === "GET" && url.searchParams.get("list-type") === "2") {
      await this.#listV2(req, res, url);
    } else if (req.method === "POST" && url.searchParams.has("delete")) {
      const body = await readAll(req);
      const keys = [...body.toString("utf8").matchAll(/<Key>([^<]*)<\/Key>/g)].map(
        (match) => `${bucket}/${unescapeXml(match[1] ?? "")}`,
      );
      await this.#exclusively(keys, async () => {
        const deleted = await this.#directories.alone(() =>
          this.#upstream(req.method, req.url ?? "/", req.headers, body),
        );
        relay(res, deleted);
      });
    } else {
      relay(
        res,
        await this.#upstream(req.method, req.url ?? "/", req.headers, await readAll(req)),
        req.method,
      );
    }
  }

  async #objectRequest(
    req: IncomingMessage,
    res: ServerResponse,
    bucket: string,
    key: string,
  ): Promise<void> {
    const path = req.url ?? "/";
    const headers = { ...req.headers };
    const ifNoneMatch = headers["if-none-match"];
    const ifMatch = headers["if-match"];
    const writes = req.method === "PUT" || req.method === "DELETE";
    if (writes && (ifNoneMatch !== undefined || ifMatch !== undefined)) {
      if (req.method === "PUT" && this.#conflictsToInject > 0) {
        this.#conflictsToInject -= 1;
        this.#injectedConflicts += 1;
        req.resume();
        return sendError(res, 409, "ConditionalRequestConflict", CONFLICT);
      }
      delete headers["if-none-match"];
      delete headers["if-match"];
      const current = await this.#files
        .getMetadata(bucket, key)
        .catch((error: NodeJS.ErrnoException) => {
          if (error.code === "ENOENT") return null;
          throw error;
        });
      const exists = current !== null;
      if (ifNoneMatch === "*" && exists) {
        req.resume();
        return sendError(res, 412, "PreconditionFailed", PRECONDITION, "If-None-Match");
      }
      if (ifMatch !== undefined) {
        if (!exists) {
          req.resume();
          return sendError(res, 404, "NoSuchKey", "The specified key does not exist.");
        }
        if (ifMatch.trim() !== "*" && bareEtag(ifMatch) !== bareEtag(current?.etag)) {
          req.resume();
          return sendError(res, 412, "PreconditionFailed", PRECONDITION, "If-Match");
        }
      }
    }
    const body = await readAll(req);
    if (req.method === "DELETE") {
      return relay(
        res,
        await this.#directories.alone(() => this.#upstream("DELETE", path, headers)),
      );
    }
    if (req.method !== "PUT")
      return relay(res, await this.#upstream(req.method, path, headers, body), req.method);
    const written = await this.#directories.shared(async () => {
      const answer = await this.#upstream("PUT", path, headers, body);
      if (answer.status === 200) await this.#untilWritten(bucket, key, body.length);
      return answer;
    });
    relay(res, written);
  }

  /** Waits (bounded) until s3rver's file holds all `length` bytes of the object just put. */
  async #untilWritten(bucket: string, key: string, length: number): Promise<void> {
    const file = this.#files.getResourcePath(bucket, key, "object");
    for (let attempt = 0; attempt < 1_000; attempt++) {
      const size = await stat(file).then(
        (found) => found.size,
        () => -1,
      );
      if (size === length) return;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    throw new Error(`s3rver did not finish writing ${bucket}/${key}`);
  }

  /** ListObjectsV2 as a V1 listing from a marker; the continuation token is the last key, base64url. */
  async #listV2(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    await readAll(req);
    const v2 = url.searchParams;
    const token = v2.get("continuation-token");
    const startAfter = v2.get("start-after");
    const v1 = new URLSearchParams();
    for (const name of ["prefix", "delimiter", "max-keys", "encoding-type"]) {
      const value = v2.get(name);
      if (value !== null) v1.set(name, value);
    }
    const marker = token ? Buffer.from(token, "base64url").toString("utf8") : startAfter;
    if (marker) v1.set("marker", marker);
    const query = v1.toString();
    const listed = await this.#directories.shared(() =>
      this.#upstream("GET", `${url.pathname}${query ? `?${query}` : ""}`, req.headers),
    );
    if (listed.status !== 200) return relay(res, listed);
    let xml = listed.body
      .toString("utf8")
      .replace(/<Owner>[\s\S]*?<\/Owner>/g, "")
      .replace(/<Marker>[\s\S]*?<\/Marker>|<Marker\/>/g, "");
    const nextMarker = /<NextMarker>([\s\S]*?)<\/NextMarker>/.exec(xml)?.[1];
    xml = xml.replace(/<NextMarker>[\s\S]*?<\/NextMarker>/g, "");
    const keys = [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => unescapeXml(m[1] ?? ""));
    const last = [keys.at(-1), nextMarker === undefined ? undefined : unescapeXml(nextMarker)]
      .filter((value): value is string => value !== undefined)
      .sort()
      .at(-1);
    const truncated = /<IsTruncated>true<\/IsTruncated>/.test(xml);
    const extra = [
      `<KeyCount>${keys.length}</KeyCount>`,
      token ? `<ContinuationToken>${escapeXml(token)}</ContinuationToken>` : "",
      !token && startAfter ? `<StartAfter>${escapeXml(startAfter)}</StartAfter>` : "",
      truncated && last !== undefined
        ? `<NextContinuationToken>${Buffer.from(last, "utf8").toString("base64url")}</NextContinuationToken>`
        : "",
    ].join("");
    xml = xml.replace("<MaxKeys>", `${extra}<MaxKeys>`);
    relay(res, { ...listed, body: Buffer.from(xml, "utf8") });
  }

  /** Runs `work` while holding every key's queue, taken in sorted order so two callers never deadlock. */
  async #exclusively<T>(keys: string[], work: () => Promise<T>): Promise<T> {
    const releases: (() => void)[] = [];
    try {
      for (const key of [...new Set(keys)].sort()) releases.push(await this.#acquire(key));
      return await work();
    } finally {
      for (const release of releases) release();
    }
  }

  async #acquire(key: string): Promise<() => void> {
    const previous = this.#queues.get(key) ?? Promise.resolve();
    let release = () => {};
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.#queues.set(key, tail);
    await previous;
    return () => {
      release();
      if (this.#queues.get(key) === tail) this.#queues.delete(key);
    };
  }

  #upstream(
    method: string | undefined,
    path: string,
    headers: IncomingHttpHeaders,
    body?: Buffer,
  ): Promise<Upstream> {
    return new Promise((resolve, reject) => {
      const outgoing = request(
        {
          host: HOST,
          port: this.#upstreamPort,
          method: method ?? "GET",
          path,
          headers: forwardable(headers, body),
          agent: this.#agent,
        },
        (incoming) => {
          readAll(incoming).then(
            (data) =>
              resolve({
                status: incoming.statusCode ?? 502,
                headers: incoming.headers,
                body: data,
              }),
            reject,
          );
        },
      );
      outgoing.once("error", reject);
      outgoing.end(body);
    });
  }
}

const PRECONDITION = "At least one of the pre-conditions you specified did not hold";
const CONFLICT =
  "A conflicting conditional operation is currently in progress against this resource. Please try again.";

/** Many holders at once, or one alone; first come, first served. */
class SharedLock {
  #holders = 0;
  #alone = false;
  readonly #waiting: { alone: boolean; wake: () => void }[] = [];

  async shared<T>(work: () => Promise<T>): Promise<T> {
    await this.#enter(false);
    try {
      return await work();
    } finally {
      this.#leave();
    }
  }

  async alone<T>(work: () => Promise<T>): Promise<T> {
    await this.#enter(true);
    try {
      return await work();
    } finally {
      this.#leave();
    }
  }

  #enter(alone: boolean): Promise<void> {
    if (this.#waiting.length === 0 && this.#admits(alone)) {
      this.#take(alone);
      return Promise.resolve();
    }
    return new Promise((wake) => this.#waiting.push({ alone, wake }));
  }

  #admits(alone: boolean): boolean {
    return !this.#alone && (!alone || this.#holders === 0);
  }

  #take(alone: boolean): void {
    this.#holders += 1;
    this.#alone = alone;
  }

  #leave(): void {
    this.#holders -= 1;
    if (this.#holders === 0) this.#alone = false;
    for (let next = this.#waiting[0]; next && this.#admits(next.alone); next = this.#waiting[0]) {
      this.#waiting.shift();
      this.#take(next.alone);
      next.wake();
    }
  }
}

function relay(res: ServerResponse, upstream: Upstream, method?: string): void {
  const headers = { ...upstream.headers };
  delete headers["transfer-encoding"];
  delete headers.connection;
  // A HEAD answer states the object's length without carrying the body.
  if (method !== "HEAD") headers["content-length"] = String(upstream.body.length);
  res.writeHead(upstream.status, headers);
  res.end(upstream.body);
}

/** The client's headers for s3rver: the body is sent whole, so its framing headers are replaced. */
function forwardable(headers: IncomingHttpHeaders, body: Buffer | undefined): IncomingHttpHeaders {
  const forwarded = { ...headers, "content-length": String(body?.length ?? 0) };
  delete forwarded["transfer-encoding"];
  delete forwarded.expect;
  delete forwarded.connection;
  return forwarded;
}

function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  condition?: string,
): void {
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error>' +
    `<Code>${code}</Code><Message>${escapeXml(message)}</Message>` +
    (condition ? `<Condition>${condition}</Condition>` : "") +
    `<RequestId>${randomBytes(8).toString("hex")}</RequestId></Error>`;
  res.writeHead(status, {
    "content-type": "application/xml",
    "content-length": String(Buffer.byteLength(body)),
  });
  res.end(body);
}

function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.once("end", () => resolve(Buffer.concat(chunks)));
    stream.once("error", reject);
  });
}

function bareEtag(etag: string | undefined): string {
  return (etag ?? "").trim().replace(/^W\//, "").replace(/^"|"$/g, "");
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function unescapeXml(text: string): string {
  const named: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (entity, name: string) => {
    if (name.startsWith("#x")) return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    if (name.startsWith("#")) return String.fromCodePoint(Number.parseInt(name.slice(1), 10));
    return named[name] ?? entity;
  });
}
