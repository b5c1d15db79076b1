// A webhook receiver for Keygate's events. Keygate signs every delivery per the Standard
// Webhooks spec (webhook-id, webhook-timestamp, webhook-signature); the `standardwebhooks`
// library checks the signature and that the timestamp is recent, so a forged or replayed
// delivery is refused. The signature covers the exact bytes: verify the raw body, never a
// re-serialised one.
import { createServer, type Server } from 'node:http';
import { Webhook } from 'standardwebhooks';

/** One Keygate event as a webhook carries it: its type and its fields (never a secret). */
export interface KeygateEvent {
  type: string;
  timestamp: string;
  data: Record<string, unknown> & { tenant?: string; integration?: string; replica: string };
}

/**
 * Listens on `port` for POST `path`. Verified deliveries go to `onEvent` once each (Keygate
 * retries a delivery that got no 2xx, with the same webhook-id: that id is the dedupe key);
 * anything else is answered 401 and never reaches `onEvent`.
 */
export function startReceiver(options: {
  port: number;
  path: string;
  secret: string;
  onEvent: (event: KeygateEvent, id: string) => void;
  onRejected?: (why: string) => void;
}): Promise<Server> {
  const webhook = new Webhook(options.secret);
  const seen = new Set<string>(); // a real receiver keeps these for a day, in its database
  const server = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== options.path) {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const headers = {
        'webhook-id': String(req.headers['webhook-id'] ?? ''),
        'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
        'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
      };
      let event: KeygateEvent;
      try {
        event = webhook.verify(raw, headers) as KeygateEvent;
      } catch (err) {
        options.onRejected?.((err as Error).message);
        res.writeHead(401).end();
        return;
      }
      const id = headers['webhook-id'];
      if (!seen.has(id)) {
        seen.add(id);
        options.onEvent(event, id);
      }
      // Answer at once; slow work belongs in a queue (Keygate waits 10 s, then retries).
      res.writeHead(204).end();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve(server));
  });
}
