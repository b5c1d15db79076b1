// A contender: the least a Node proxy can do, node:http in front of an undici Pool,
// forwarding method, path, headers (hop-by-hop dropped, one header added) and streams.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

const origin = process.argv[2];
if (!origin) throw new Error('usage: undici-proxy.ts ORIGIN');
const pool = new Pool(origin, { connections: 128, pipelining: 1, keepAliveTimeout: 30_000 });
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te']);

const server = createServer((req, res) => {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !HOP.has(name) && name !== 'host') headers[name] = value;
  }
  headers['x-api-key'] = 'bench-upstream-key';
  const hasBody =
    req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  pool.request(
    { path: req.url ?? '/', method: req.method as 'GET', headers, body: hasBody ? req : null },
    (err, data) => {
      if (err || !data) {
        res.writeHead(502).end();
        return;
      }
      const out: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(data.headers)) {
        if (value !== undefined && !HOP.has(name)) out[name] = value;
      }
      res.writeHead(data.statusCode, out);
      data.body.pipe(res);
    },
  );
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
// Exit (rather than die) on SIGTERM, so a --cpu-prof profile is written.
process.on('SIGTERM', () => process.exit(0));
