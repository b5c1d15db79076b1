import { Counter, type Registry } from 'prom-client';
import type { TenantsConfig } from '../config/budgets.ts';
import type { Caller } from '../identity/caller.ts';
import { rateLimited, retrySeconds } from './answers.ts';

const MINUTE_MS = 60_000;
/** Callers with a limit tracked at once; the map is cleared when full (their counts start over). */
const MAX_TRACKED_CALLERS = 100_000;

/**
 * A request-per-minute limit as the generic cell rate algorithm (GCRA): one number per
 * limited caller, the theoretical arrival time of its next request. A full minute's
 * worth may come at once; after that, one request per 60 s / limit. O(1), no timers.
 */
class Gcra {
  readonly perMinute: number;
  readonly #interval: number;
  readonly #tolerance: number;
  #tat = 0;

  constructor(perMinute: number) {
    this.perMinute = perMinute;
    this.#interval = MINUTE_MS / perMinute;
    this.#tolerance = MINUTE_MS - this.#interval;
  }

  /** Ms until one more request fits (0: now). */
  waitMs(now: number): number {
    return Math.max(0, Math.max(this.#tat, now) - this.#tolerance - now);
  }

  take(now: number): void {
    this.#tat = Math.max(this.#tat, now) + this.#interval;
  }

  /** Requests that would fit right now. */
  left(now: number): number {
    const used = Math.max(this.#tat, now) - now;
    return Math.max(0, Math.floor((this.#tolerance - used) / this.#interval) + 1);
  }
}

type Limited = Pick<Caller, 'id' | 'limits'>;

/**
 * Keygate's own limits: `limits.requestsPerMinute` of a caller (a key attribute) and of
 * a tenant (`tenants.NAME.limits`), checked right after authentication and answered
 * `429 rate_limited` with Retry-After and the IETF RateLimit fields. Counted per
 * replica: with N replicas behind an even load balancer a limit lets N times through,
 * so set it to the total ÷ N (docs/budgets.md#own-limits).
 */
export class OwnLimits {
  readonly #tenants = new Map<string, Gcra>();
  readonly #callers = new Map<string, Gcra>();
  readonly #refusals: Counter<'scope'> | undefined;

  constructor(tenants: Readonly<TenantsConfig>, registry?: Registry) {
    for (const [name, tenant] of Object.entries(tenants)) {
      const perMinute = tenant.limits?.requestsPerMinute;
      if (perMinute !== undefined) this.#tenants.set(name, new Gcra(perMinute));
    }
    this.#refusals =
      registry &&
      new Counter({
        name: 'keygate_rate_limited_total',
        help: "Proxy requests answered 429 rate_limited: over a key's (scope=key) or a tenant's (scope=tenant) own limit.",
        labelNames: ['scope'] as const,
        registers: [registry],
      });
    this.#refusals?.inc({ scope: 'key' }, 0);
    this.#refusals?.inc({ scope: 'tenant' }, 0);
  }

  /** Counts the request against the caller's and the tenant's limits; throws rate_limited when either is full. */
  check(tenant: string, caller: Limited, now = Date.now()): void {
    const perMinute = caller.limits?.requestsPerMinute;
    const own = perMinute === undefined ? undefined : this.#caller(caller.id, perMinute);
    const shared = this.#tenants.size === 0 ? undefined : this.#tenants.get(tenant);
    if (own === undefined && shared === undefined) return;
    // Neither is counted unless both have room, so a refusal by one costs the other nothing.
    if (own && own.waitMs(now) > 0) this.#refuse('key', own, now);
    if (shared && shared.waitMs(now) > 0) this.#refuse('tenant', shared, now);
    own?.take(now);
    shared?.take(now);
  }

  #caller(id: string, perMinute: number): Gcra {
    let limit = this.#callers.get(id);
    if (limit?.perMinute === perMinute) return limit;
    if (this.#callers.size >= MAX_TRACKED_CALLERS) this.#callers.clear();
    limit = new Gcra(perMinute);
    this.#callers.set(id, limit);
    return limit;
  }

  #refuse(scope: 'key' | 'tenant', limit: Gcra, now: number): never {
    this.#refusals?.inc({ scope });
    throw rateLimited({
      name: scope,
      quota: limit.perMinute,
      windowSeconds: 60,
      remaining: limit.left(now),
      resetSeconds: retrySeconds(limit.waitMs(now), 1000),
    });
  }
}
