import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { CredentialStatus } from '../credentials/types.ts';
import type { RefreshEvent } from '../refresh/events.ts';
import type { RefreshScheduler } from '../refresh/scheduler.ts';

/** What the refresh metrics read; the scheduler and refresher provide it. */
export interface RefreshState {
  scheduler: Pick<RefreshScheduler, 'on' | 'statusCounts' | 'nextDueAt' | 'size'>;
  /** Refreshed credentials not yet written to Vault. */
  unpersisted: () => number;
  now?: () => number;
}

const STATUSES: readonly CredentialStatus[] = ['active', 'refresh_failed', 'needs_reauth'];

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

  /** Refreshes by outcome, credentials by status, and time until the next due refresh. */
  watchRefresh({ scheduler, unpersisted, now = Date.now }: RefreshState): void {
    const refreshes = new Counter({
      name: 'keygate_refreshes_total',
      help: 'Token refreshes by outcome: success, retry, transient_failure, permanent_failure, unpersisted.',
      labelNames: ['outcome'] as const,
      registers: [this.registry],
    });
    for (const outcome of ['success', 'retry', 'transient_failure', 'permanent_failure', 'unpersisted']) {
      refreshes.inc({ outcome }, 0);
    }
    scheduler.on('refresh-success', () => refreshes.inc({ outcome: 'success' }));
    scheduler.on('refresh-retry', () => refreshes.inc({ outcome: 'retry' }));
    scheduler.on('refresh-failed', (event: RefreshEvent) => {
      const outcome =
        event.persisted === false
          ? 'unpersisted'
          : event.permanent
            ? 'permanent_failure'
            : 'transient_failure';
      refreshes.inc({ outcome });
    });
    new Gauge({
      name: 'keygate_credentials',
      help: 'OAuth credentials known to the refresh scheduler, by status.',
      labelNames: ['status'] as const,
      registers: [this.registry],
      collect() {
        for (const status of STATUSES) this.set({ status }, scheduler.statusCounts[status]);
      },
    });
    new Gauge({
      name: 'keygate_refresh_scheduled',
      help: 'Credentials waiting in the refresh schedule.',
      registers: [this.registry],
      collect() {
        this.set(scheduler.size);
      },
    });
    new Gauge({
      name: 'keygate_refresh_next_due_seconds',
      help: 'Seconds until the next refresh is due (0 when one is overdue; absent when none is scheduled).',
      registers: [this.registry],
      collect() {
        const due = scheduler.nextDueAt;
        if (due === undefined) this.reset();
        else this.set(Math.max(0, (due - now()) / 1000));
      },
    });
    new Gauge({
      name: 'keygate_refresh_unpersisted',
      help: 'Refreshed credentials served from memory because Vault has not taken them yet.',
      registers: [this.registry],
      collect() {
        this.set(unpersisted());
      },
    });
  }

  /** GET /metrics in the Prometheus text format. */
  route(app: FastifyInstance): void {
    const schema = {
      tags: ['ops'],
      summary: 'Prometheus metrics (text exposition format)',
      response: {
        200: { description: 'Metrics.', content: { 'text/plain': { schema: { type: 'string' } } } },
      },
    };
    app.get('/metrics', { schema }, async (_request, reply) => {
      reply.header('content-type', this.registry.contentType);
      return this.registry.metrics();
    });
  }
}
