import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

type Outcome = 'admitted' | 'refused' | 'gone';
const OUTCOMES: readonly Outcome[] = ['admitted', 'refused', 'gone'];

/** One integration's budget metrics, labelled once (labels: configured integration names only, never a tenant). */
export interface IntegrationMetrics {
  refused(): void;
  waited(ms: number, outcome: Outcome): void;
}

/**
 * `keygate_budget_refusals_total{integration}`, `keygate_budget_wait_seconds{integration,outcome}`
 * and `keygate_budget_waiting{integration}`. Only the slow path touches them: a request
 * that goes at once is not counted here (the proxy's request metrics count it).
 */
export class BudgetMetrics {
  readonly #refusals: Counter<'integration'>;
  readonly #wait: Histogram<'integration' | 'outcome'>;

  constructor(registry: Registry, waiting: () => ReadonlyMap<string, number>) {
    this.#refusals = new Counter({
      name: 'keygate_budget_refusals_total',
      help: "Requests answered 429 upstream_budget_exhausted: the provider's learned rate limit was spent, so it was not called.",
      labelNames: ['integration'] as const,
      registers: [registry],
    });
    this.#wait = new Histogram({
      name: 'keygate_budget_wait_seconds',
      help: 'How long requests held for an upstream budget waited, by outcome: admitted, refused (429), gone (the caller hung up).',
      labelNames: ['integration', 'outcome'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    });
    new Gauge({
      name: 'keygate_budget_waiting',
      help: 'Requests waiting for an upstream budget now.',
      labelNames: ['integration'] as const,
      registers: [registry],
      collect() {
        for (const [integration, count] of waiting()) this.set({ integration }, count);
      },
    });
  }

  for(integration: string): IntegrationMetrics {
    const refusals = this.#refusals.labels({ integration });
    refusals.inc(0);
    const waits = Object.fromEntries(
      OUTCOMES.map((outcome) => [outcome, this.#wait.labels({ integration, outcome })]),
    ) as Record<Outcome, ReturnType<Histogram<'integration' | 'outcome'>['labels']>>;
    return {
      refused: () => refusals.inc(),
      waited: (ms, outcome) => waits[outcome].observe(ms / 1000),
    };
  }
}
