import { Counter, Histogram, type Registry } from 'prom-client';

type RequestsChild = ReturnType<Counter<'integration' | 'status' | 'source'>['labels']>;
type DurationChild = ReturnType<Histogram<'integration'>['labels']>;

export type RetryReason = 'rate_limited' | 'server_error' | 'connection' | 'refresh';

/**
 * The proxy's Prometheus metrics. Labels are bounded: configured integration names
 * (anything else is `unknown`), status classes and retry reasons; never a tenant or a path.
 */
export class ProxyMetrics {
  readonly #known: ReadonlySet<string>;
  readonly #requests: Counter<'integration' | 'status' | 'source'>;
  readonly #duration: Histogram<'integration'>;
  readonly #retries: Counter<'integration' | 'reason'>;
  // Children per label set, made once: prom-client hashes the labels of every inc() otherwise.
  readonly #requestsBy = new Map<string, RequestsChild>();
  readonly #durationBy = new Map<string, DurationChild>();

  constructor(registry: Registry, integrations: readonly string[]) {
    this.#known = new Set(integrations);
    this.#requests = new Counter({
      name: 'keygate_proxy_requests_total',
      help: 'Proxied requests by integration, status class (2xx..5xx, 499 = caller hung up) and who answered (upstream or keygate).',
      labelNames: ['integration', 'status', 'source'] as const,
      registers: [registry],
    });
    this.#duration = new Histogram({
      name: 'keygate_proxy_duration_seconds',
      help: 'Time from request to the end of the answer, retries and refreshes included.',
      labelNames: ['integration'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    });
    this.#retries = new Counter({
      name: 'keygate_proxy_retries_total',
      help: 'Upstream attempts after the first: rate_limited (429), server_error (5xx), connection, refresh (401 replay).',
      labelNames: ['integration', 'reason'] as const,
      registers: [registry],
    });
  }

  request(integration: string, status: number, keygateMade: boolean, seconds: number): void {
    const name = this.#known.has(integration) ? integration : 'unknown';
    const statusClass = status === 499 ? '499' : `${Math.floor(status / 100)}xx`;
    const source = keygateMade ? 'keygate' : 'upstream';
    const key = `${name} ${statusClass} ${source}`;
    let requests = this.#requestsBy.get(key);
    if (!requests) {
      requests = this.#requests.labels({ integration: name, status: statusClass, source });
      this.#requestsBy.set(key, requests);
    }
    requests.inc();
    let duration = this.#durationBy.get(name);
    if (!duration) {
      duration = this.#duration.labels({ integration: name });
      this.#durationBy.set(name, duration);
    }
    duration.observe(seconds);
  }

  retry(integration: string, reason: RetryReason): void {
    this.#retries.inc({ integration, reason });
  }
}
