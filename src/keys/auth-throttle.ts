import { LRUCache } from 'lru-cache';
import { Counter, type Registry } from 'prom-client';
import type { Config } from '../config/schema.ts';
import { KeygateError } from '../errors.ts';

interface Window {
  startedAt: number;
  failures: number;
}

/**
 * Failed caller authentications (Keygate keys and access tokens alike) counted per
 * client address in a fixed window: past `maxFailures`, the address gets 429
 * `auth_throttled` until the window ends, before its key or token is looked at (so a
 * flood of made-up keys costs no Vault read, and of forged tokens no signature check).
 * Every address behind one NAT shares a budget: the documented trade-off.
 */
export class AuthThrottle {
  readonly #windows: LRUCache<string, Window>;
  readonly #maxFailures: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #counter: Counter<'outcome'> | undefined;

  constructor(options: Readonly<Config['authThrottle']>, registry?: Registry, now: () => number = Date.now) {
    this.#maxFailures = options.maxFailures;
    this.#windowMs = options.windowSeconds * 1000;
    this.#now = now;
    this.#windows = new LRUCache({ max: options.maxAddresses });
    this.#counter =
      registry &&
      new Counter({
        name: 'keygate_auth_failures_total',
        help: 'Failed caller authentications on the proxy (Keygate keys and access tokens): rejected (401) or throttled (429).',
        labelNames: ['outcome'] as const,
        registers: [registry],
      });
    this.#counter?.inc({ outcome: 'rejected' }, 0);
    this.#counter?.inc({ outcome: 'throttled' }, 0);
  }

  /** True while `address` may be over its budget (check() says for sure, and counts it). */
  throttles(address: string): boolean {
    if (this.#maxFailures === 0) return false;
    const window = this.#windows.get(address);
    return window !== undefined && window.failures >= this.#maxFailures;
  }

  /** Throws `auth_throttled` while `address` is over its budget. */
  check(address: string): void {
    if (this.#maxFailures === 0) return;
    const window = this.#windows.get(address);
    if (!window || window.failures < this.#maxFailures) return;
    const left = window.startedAt + this.#windowMs - this.#now();
    if (left <= 0) {
      this.#windows.delete(address);
      return;
    }
    this.#counter?.inc({ outcome: 'throttled' });
    throw new KeygateError('auth_throttled', { retryAfter: left / 1000 });
  }

  failed(address: string): void {
    this.#counter?.inc({ outcome: 'rejected' });
    if (this.#maxFailures === 0) return;
    const now = this.#now();
    const window = this.#windows.get(address);
    if (!window || now - window.startedAt >= this.#windowMs)
      this.#windows.set(address, { startedAt: now, failures: 1 });
    else window.failures += 1;
  }
}
