import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Keygate's Prometheus metrics, in a registry of its own (so several instances in one
 * process, as in tests, do not collide). Labels are outcomes and statuses only:
 * never a tenant's secret, and no unbounded label values. Served by http/metrics-route.ts.
 */
export class Metrics {
  readonly registry = new Registry();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'keygate_' });
  }
}
