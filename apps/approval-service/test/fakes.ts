/**
 * Stand-ins for the outside services the workflow calls, as real HTTP
 * servers in the test process: a risk service that can hold a request open
 * (the barrier for cancelling a run mid-step) and a webhook that records
 * every notification with its Idempotency-Key, and can refuse the first.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface HeldCheck {
  requester: string;
  /** Resolves when the worker gives the request up (its connection closes unanswered). */
  aborted: Promise<void>;
}

export interface Delivery {
  idempotencyKey: string | undefined;
  body: { runId: string; decision: string; requester: string; amount: number };
}

export interface Fakes {
  riskUrl: string;
  notifyUrl: string;
  /** Every risk check whose requester starts with "hold": never answered. */
  held(requester: string): Promise<HeldCheck>;
  deliveries: Delivery[];
  close(): Promise<void>;
}

/** The score the fake risk service gives every request it answers. */
export const RISK_SCORE = 30;

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = "";
  for await (const chunk of req) text += chunk;
  return JSON.parse(text);
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    });
  });
}

export async function startFakes(): Promise<Fakes> {
  const heldChecks = new Map<string, HeldCheck>();
  const heldWaiters = new Map<string, (check: HeldCheck) => void>();
  const deliveries: Delivery[] = [];

  const risk = createServer((req, res) => {
    void readJson(req).then((body) => {
      const { requester } = body as { requester: string };
      if (!requester.startsWith("hold")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ score: RISK_SCORE }));
        return;
      }
      const check: HeldCheck = {
        requester,
        aborted: new Promise((resolve) => res.once("close", () => resolve())),
      };
      heldChecks.set(requester, check);
      heldWaiters.get(requester)?.(check);
    });
  });
  const failedOnce = new Set<string>();
  const notify = createServer((req, res) => {
    void readJson(req).then((body) => {
      const key = req.headers["idempotency-key"];
      const delivery = body as Delivery["body"];
      deliveries.push({
        idempotencyKey: typeof key === "string" ? key : undefined,
        body: delivery,
      });
      // A requester starting with "flaky" gets its first delivery refused, as a webhook that is down.
      if (delivery.requester.startsWith("flaky") && !failedOnce.has(delivery.runId)) {
        failedOnce.add(delivery.runId);
        res.writeHead(503).end();
        return;
      }
      res.writeHead(204).end();
    });
  });
  const [riskUrl, notifyUrl] = await Promise.all([listen(risk), listen(notify)]);
  return {
    riskUrl,
    notifyUrl,
    deliveries,
    held(requester) {
      const check = heldChecks.get(requester);
      if (check) return Promise.resolve(check);
      return new Promise((resolve) => heldWaiters.set(requester, resolve));
    },
    async close() {
      await Promise.all(
        [risk, notify].map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      );
    },
  };
}
