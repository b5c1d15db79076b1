// The baseline: @fastify/http-proxy in front of the origin, no authentication, no injection.
import proxy from '@fastify/http-proxy';
import Fastify from 'fastify';

const origin = process.argv[2];
if (!origin) throw new Error('usage: bare-proxy.ts ORIGIN');
const app = Fastify({ logger: false });
await app.register(proxy, {
  upstream: origin,
  undici: { connections: 128, pipelining: 1, keepAliveTimeout: 30_000 },
});
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
process.stdout.write(
  `${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`,
);
// Exit (rather than die) on SIGTERM, so a --cpu-prof profile is written.
process.on('SIGTERM', () => process.exit(0));
