import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { adminAuth } from './admin-auth.ts';

/**
 * GET /metrics in the Prometheus text format; with `token` (metrics.token), only for
 * `Authorization: Bearer <token>` (what Prometheus sends with `authorization.credentials`).
 */
export function metricsRoute(app: FastifyInstance, registry: Registry, token?: string): void {
  const schema = {
    tags: ['ops'],
    summary: 'Prometheus metrics (text exposition format)',
    response: {
      200: { description: 'Metrics.', content: { 'text/plain': { schema: { type: 'string' } } } },
    },
  };
  const options = token === undefined ? { schema } : { schema, onRequest: adminAuth(token) };
  app.get('/metrics', options, async (_request, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
}
