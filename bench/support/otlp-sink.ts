// A collector stand-in for bench/tracing.ts, run as its own process (its CPU is not the
// bench's): accepts OTLP/HTTP JSON exports, counts the spans, prints its port, and prints
// `spans N` when told SIGTERM.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

let spans = 0;
const server = createServer((request, response) => {
  let body = '';
  request.setEncoding('utf8');
  request.on('data', (chunk: string) => (body += chunk));
  request.on('end', () => {
    spans += body.split('"spanId"').length - 1;
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
server.listen(0, '127.0.0.1', () => console.log((server.address() as AddressInfo).port));
process.on('SIGTERM', () => {
  process.stdout.write(`spans ${spans}\n`, () => process.exit(0));
});
