import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Where the webhook-receiver example listens (KEYGATE_DEV_WEBHOOK_PORT, default 8091). */
export const WEBHOOK_RECEIVER_PATH = '/webhooks/keygate';

/**
 * The dev stack's webhook receiver: it passes each delivery on, untouched (body and signature
 * headers), to the webhook-receiver example on `targetPort`, and answers with the example's
 * status. While nothing listens there it answers 204, so the events of a session without the
 * example are neither retried for an hour nor reported as dropped.
 */
export async function startWebhookRelay(targetPort: number): Promise<{ url: string; stop(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const headers: Record<string, string> = { 'content-length': String(body.length) };
      for (const name of [
        'content-type',
        'user-agent',
        'webhook-id',
        'webhook-timestamp',
        'webhook-signature',
      ]) {
        const value = req.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      const out = request(
        {
          host: '127.0.0.1',
          port: targetPort,
          path: WEBHOOK_RECEIVER_PATH,
          method: 'POST',
          headers,
          timeout: 10_000,
        },
        (answer) => {
          answer.resume();
          res.writeHead(answer.statusCode ?? 502).end();
        },
      );
      out.on('timeout', () => out.destroy(new Error('timeout')));
      out.on('error', (err: NodeJS.ErrnoException) => {
        if (res.headersSent) return;
        res.writeHead(err.code === 'ECONNREFUSED' ? 204 : 502).end();
      });
      out.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/relay`,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
