import type { ServerOptions } from 'node:http';
import type { Config } from '../config/schema.ts';

// Node checks request and header timeouts on a timer, every 30 s by default: a short
// requestTimeout would otherwise be enforced up to 30 s late.
const MAX_CHECK_INTERVAL_MS = 30_000;
const NODE_HEADERS_TIMEOUT_MS = 60_000;

/**
 * Fastify options that bound what one client can hold: the whole request must arrive
 * within `requestTimeoutMs` (a slow body cannot pin a connection), a connection silent
 * both ways for `connectionTimeoutMs` is closed.
 */
export function connectionLimits(server: Readonly<Config['server']>): {
  requestTimeout: number;
  connectionTimeout: number;
  http: ServerOptions;
} {
  return {
    requestTimeout: server.requestTimeoutMs,
    connectionTimeout: server.connectionTimeoutMs,
    http: {
      // Node refuses a headers timeout longer than the request timeout.
      headersTimeout: Math.min(NODE_HEADERS_TIMEOUT_MS, server.requestTimeoutMs),
      connectionsCheckingInterval: Math.min(
        MAX_CHECK_INTERVAL_MS,
        Math.max(50, Math.floor(server.requestTimeoutMs / 4)),
      ),
    },
  };
}
