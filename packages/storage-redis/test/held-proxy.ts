import { once } from "node:events";
import { createConnection, createServer, type Server, type Socket } from "node:net";

/** One command a client sent, as RESP bulk strings (text). */
export type Command = string[];

/**
 * A TCP proxy in front of Redis whose client-to-server direction the test
 * can hold: while held, what the client sends stays in the proxy, so a
 * command is provably written by the client and provably not yet run by the
 * server. It records every command the client sends, parsed from RESP, for
 * the test to check which calls went out. Other clients reach Redis
 * directly and are never held.
 */
export class HeldProxy {
  readonly #server: Server;
  readonly #upstream: { host: string; port: number };
  readonly #sockets = new Set<Socket>();
  /** Bytes held back from the server while held, in order. */
  #held: Buffer[] = [];
  #holding = false;
  readonly #toServer: Socket[] = [];
  /** Commands the client sent, in order (held ones included). */
  readonly commands: Command[] = [];
  #pending: Buffer = Buffer.alloc(0);
  #waiters: { test(commands: Command[]): boolean; resolve(): void }[] = [];

  private constructor(server: Server, upstream: { host: string; port: number }) {
    this.#server = server;
    this.#upstream = upstream;
  }

  static async start(redisUrl: string): Promise<HeldProxy> {
    const target = new URL(redisUrl);
    const upstream = { host: target.hostname, port: Number(target.port || 6379) };
    const server = createServer();
    const proxy = new HeldProxy(server, upstream);
    server.on("connection", (socket) => proxy.#accept(socket));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return proxy;
  }

  /** The URL a client uses to go through the proxy (same database and credentials as `redisUrl`). */
  url(redisUrl: string): string {
    const address = this.#server.address();
    if (address === null || typeof address === "string") throw new Error("proxy not listening");
    const url = new URL(redisUrl);
    url.hostname = "127.0.0.1";
    url.port = String(address.port);
    return url.toString();
  }

  /** From now on, keeps what the client sends. */
  hold(): void {
    this.#holding = true;
  }

  /** Sends on everything held, and stops holding. */
  release(): void {
    this.#holding = false;
    const held = this.#held;
    this.#held = [];
    const to = this.#toServer[0];
    if (!to) throw new Error("no connection to release");
    for (const chunk of held) to.write(chunk);
  }

  /** Resolves once the recorded commands satisfy `test` (a barrier on what the client sent). */
  sent(test: (commands: Command[]) => boolean): Promise<void> {
    if (test(this.commands)) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ test, resolve }));
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    this.#server.close();
    await once(this.#server, "close");
  }

  #accept(client: Socket): void {
    if (this.#toServer.length > 0) {
      // One client connection is all these tests hold; a second would make "held" ambiguous.
      client.destroy();
      return;
    }
    const server = createConnection(this.#upstream);
    this.#toServer.push(server);
    this.#sockets.add(client);
    this.#sockets.add(server);
    server.pipe(client);
    client.on("data", (chunk: Buffer) => {
      this.#record(chunk);
      if (this.#holding) this.#held.push(chunk);
      else server.write(chunk);
    });
    const end = () => {
      client.destroy();
      server.destroy();
    };
    client.on("close", end);
    server.on("close", end);
    client.on("error", end);
    server.on("error", end);
  }

  #record(chunk: Buffer): void {
    this.#pending = Buffer.concat([this.#pending, chunk]);
    for (;;) {
      const parsed = parseCommand(this.#pending);
      if (!parsed) break;
      this.commands.push(parsed.command);
      this.#pending = this.#pending.subarray(parsed.length);
    }
    this.#waiters = this.#waiters.filter((waiter) => {
      if (!waiter.test(this.commands)) return true;
      waiter.resolve();
      return false;
    });
  }
}

/** One RESP array of bulk strings from the start of `data`, or null while incomplete. */
function parseCommand(data: Buffer): { command: Command; length: number } | null {
  let at = 0;
  const line = (): string | null => {
    const end = data.indexOf("\r\n", at);
    if (end < 0) return null;
    const text = data.toString("latin1", at, end);
    at = end + 2;
    return text;
  };
  const header = line();
  if (header === null) return null;
  if (!header.startsWith("*")) throw new Error(`unexpected RESP from the client: ${header}`);
  const command: Command = [];
  for (let i = 0; i < Number(header.slice(1)); i++) {
    const size = line();
    if (size === null) return null;
    const length = Number(size.slice(1));
    if (data.length < at + length + 2) return null;
    command.push(data.toString("utf8", at, at + length));
    at += length + 2;
  }
  return { command, length: at };
}

/** The script calls among `commands` (EVALSHA, and EVAL after NOSCRIPT), each as its number of keys. */
export function scriptCalls(commands: Command[]): { name: string; keys: string[] }[] {
  return commands
    .filter(([name]) => /^eval(sha)?$/i.test(name ?? ""))
    .map(([name, , count, ...rest]) => ({
      name: (name as string).toLowerCase(),
      keys: rest.slice(0, Number(count)),
    }));
}
