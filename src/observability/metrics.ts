import type { FastifyInstance } from 'fastify';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { adminAuth } from '../admin/auth.ts';

/**
 * Keygate's Prometheus metrics, in a registry of its own (so several instances in one
 * process, as in tests, do not collide). Labels are outcomes and statuses only:
 * never a tenant's secret, and no unbounded label values.
 */
export class Metrics {
  readonly registry = new Registry();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'keygate_' });
  }

  /**
   * GET /metrics in the Prometheus text format; with `token` (metrics.token), only for
   * `Authorization: Bearer <token>` (what Prometheus sends with `authorization.credentials`).
   */
  route(app: FastifyInstance, token?: string): void {
    const schema = {
      tags: ['ops'],
      summary: 'Prometheus metrics (text exposition format)',
      response: {
        200: { description: 'Metrics.', content: { 'text/plain': { schema: { type: 'string' } } } },
      },
    };
    const options = token === undefined ? { schema } : { schema, onRequest: adminAuth(token) };
    app.get('/metrics', options, async (_request, reply) => {
      reply.header('content-type', this.registry.contentType);
      return this.registry.metrics();
    });
  }
}
