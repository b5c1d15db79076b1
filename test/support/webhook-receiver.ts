import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One delivery as the receiver saw it, with the outcome of checking its signature. */
export interface Delivery {
  id: string;
  timestamp: string;
  verified: boolean;
  type?: string;
  data?: Record<string, unknown>;
  raw: string;
  answered: number | 'dropped' | 'hung';
  /** The W3C trace context the sender passed, if any. */
  traceparent?: string;
}

/**
 * How the receiver answers the next requests: `ok` 204; `fail` a status; `drop` destroys
 * the connection; `hang` never answers (until stop). The mode applies to every request
 * after `failFirst` have met `failWith`.
 */
export type ReceiverMode = 'ok' | 'hang' | 'drop' | { status: number };

export interface WebhookReceiver {
  url: string;
  /** A Standard Webhooks secret for this receiver. */
  secret: string;
  deliveries: Delivery[];
  /** Distinct event ids verified and answered 2xx: what the receiver has really taken. */
  accepted: () => Map<string, Delivery>;
  setMode(mode: ReceiverMode, failFirst?: { count: number; with: ReceiverMode }): void;
  stop(): Promise<void>;
}

/**
 * A webhook receiver that behaves like a careful real one: verifies every delivery's
 * signature with the `standardwebhooks` library (id, timestamp within five minutes, HMAC)
 * before accepting it, and can be slow (hang), dead (drop) or flaky (fail the first N).
 */
export async function startWebhookReceiver(mode: ReceiverMode = 'ok'): Promise<WebhookReceiver> {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const verifier = new Webhook(secret);
  const deliveries: Delivery[] = [];
  const sockets = new Set<Socket>();
  const hung = new Set<ServerResponse>();
  let current: ReceiverMode = mode;
  let failures: { count: number; with: ReceiverMode } | undefined;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString();
      const headers = {
        'webhook-id': String(req.headers['webhook-id'] ?? ''),
        'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
        'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
      };
      let body: { type?: string; data?: Record<string, unknown> } | undefined;
      try {
        body = verifier.verify(raw, headers) as typeof body;
      } catch {
        body = undefined;
      }
      let answer: ReceiverMode = current;
      if (failures && failures.count > 0) {
        failures.count -= 1;
        answer = failures.with;
      }
      if (!body) answer = { status: 401 };
      const delivery: Delivery = {
        id: headers['webhook-id'],
        timestamp: headers['webhook-timestamp'],
        verified: body !== undefined,
        raw,
        answered:
          answer === 'ok' ? 204 : answer === 'hang' ? 'hung' : answer === 'drop' ? 'dropped' : answer.status,
        ...(body?.type === undefined ? {} : { type: body.type }),
        ...(body?.data === undefined ? {} : { data: body.data }),
        ...(typeof req.headers['traceparent'] === 'string'
          ? { traceparent: req.headers['traceparent'] }
          : {}),
      };
      deliveries.push(delivery);
      if (answer === 'ok') res.writeHead(204).end();
      else if (answer === 'hang') hung.add(res);
      else if (answer === 'drop') req.socket.destroy();
      else res.writeHead(answer.status, { 'content-type': 'text/plain' }).end('no');
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/keygate`,
    secret,
    deliveries,
    accepted: () =>
      new Map(
        deliveries
          .filter((d) => d.verified && typeof d.answered === 'number' && d.answered < 300)
          .map((d) => [d.id, d]),
      ),
    setMode(mode, failFirst) {
      current = mode;
      failures = failFirst ? { ...failFirst } : undefined;
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      hung.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
