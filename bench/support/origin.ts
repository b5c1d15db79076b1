// The upstream every contender forwards to: a small JSON answer, keep-alive. Prints its port.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const body = JSON.stringify({
  id: 'msg_0123456789',
  type: 'message',
  content: [{ type: 'text', text: 'hello' }],
});
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
// Exit (rather than die) on SIGTERM, so a --cpu-prof profile is written.
process.on('SIGTERM', () => process.exit(0));
