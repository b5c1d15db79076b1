import { Counter, Histogram, type Registry } from 'prom-client';

type DurationChild = ReturnType<Histogram<'integration'>['labels']>;

export type RetryReason = 'rate_limited' | 'server_error' | 'connection' | 'refresh';

// The status classes a request is counted under, by index: 1xx..5xx, then 499.
const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx', '499'] as const;
const SOURCES = ['upstream', 'keygate'] as const;
const SLOTS = CLASSES.length * SOURCES.length;

/** One integration's request counts since the last scrape, and its duration histogram. */
interface Tally {
  name: string;
  counts: Float64Array;
  duration: DurationChild;
}

/**
 * The proxy's Prometheus metrics. Labels are bounded: configured integration names
 * (anything else is `unknown`), status classes and retry reasons; never a tenant or a path.
 * Requests are counted in plain arrays and handed to prom-client when it is scraped
 * (its `collect`): prom-client validates and hashes the labels of every `inc()`, which
 * once per proxied request was a measurable part of the proxy's CPU (docs/proxy.md#benchmark).
 */
export class ProxyMetrics {
  readonly #tallies = new Map<string, Tally>();
  readonly #unknown: Tally;
  readonly #duration: Histogram<'integration'>;
  readonly #retries: Counter<'integration' | 'reason'>;

  constructor(registry: Registry, integrations: readonly string[]) {
    const tallies = this.#tallies;
    const flush = (counter: Counter<'integration' | 'status' | 'source'>) => {
      for (const tally of tallies.values()) flushTally(counter, tally);
      flushTally(counter, this.#unknown);
    };
    new Counter({
      name: 'keygate_proxy_requests_total',
      help: 'Proxied requests by integration, status class (2xx..5xx, 499 = caller hung up) and who answered (upstream or keygate).',
      labelNames: ['integration', 'status', 'source'] as const,
      registers: [registry],
      collect() {
        flush(this);
      },
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
    for (const name of integrations) tallies.set(name, this.#tally(name));
    this.#unknown = this.#tally('unknown');
  }

  #tally(name: string): Tally {
    return { name, counts: new Float64Array(SLOTS), duration: this.#duration.labels({ integration: name }) };
  }

  request(integration: string, status: number, keygateMade: boolean, seconds: number): void {
    const tally = this.#tallies.get(integration) ?? this.#unknown;
    const statusClass = status === 499 ? 5 : Math.min(Math.max(Math.floor(status / 100) - 1, 0), 4);
    (tally.counts[statusClass * SOURCES.length + (keygateMade ? 1 : 0)] as number) += 1;
    tally.duration.observe(seconds);
  }

  retry(integration: string, reason: RetryReason): void {
    this.#retries.inc({ integration, reason });
  }
}

function flushTally(counter: Counter<'integration' | 'status' | 'source'>, tally: Tally): void {
  const { counts } = tally;
  for (let slot = 0; slot < SLOTS; slot += 1) {
    const count = counts[slot] as number;
    if (count === 0) continue;
    counts[slot] = 0;
    const status = CLASSES[Math.floor(slot / SOURCES.length)] as string;
    const source = SOURCES[slot % SOURCES.length] as string;
    counter.inc({ integration: tally.name, status, source }, count);
  }
}
