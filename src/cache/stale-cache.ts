import { LRUCache } from 'lru-cache';

interface Entry<V> {
  value: V;
  freshUntil: number;
  staleUntil: number;
}

export interface StaleCacheOptions {
  ttlMs: number;
  /** While the source is down, an entry past its TTL still serves this long. */
  maxStaleMs: number;
  maxEntries: number;
  /** How long "there is none" is remembered; 0: not at all. */
  absentTtlMs?: number;
  /** Absent names live in their own LRU, so a flood of made-up ones evicts no real entry. */
  absentMaxEntries?: number;
  /** After an outage is seen, stale entries serve at once for this long while one load per key retries behind. */
  outageBackoffMs?: number;
  now?: () => number;
}

/** A lookup's result: `value` undefined means the source has none (remembered for absentTtlMs). */
export interface Lookup<V> {
  value: V | undefined;
  stale: boolean;
}

/**
 * A bounded, short-lived cache in front of a slow source that can go down (Vault).
 * A fresh entry serves at once; concurrent misses share one load; a load that fails
 * because the source is down falls back to the entry until `maxStaleMs` past its TTL.
 * Once an outage is seen, stale entries serve without waiting on the source for
 * `outageBackoffMs`, each refreshed by one load in the background; the first load
 * that succeeds ends the back-off.
 */
export class StaleCache<V> {
  readonly #lru: LRUCache<string, Entry<V>>;
  readonly #absent: LRUCache<string, number> | undefined;
  readonly #inflight = new Map<string, Promise<V | undefined>>();
  readonly #ttlMs: number;
  readonly #maxStaleMs: number;
  readonly #absentTtlMs: number;
  readonly #outageBackoffMs: number;
  readonly #now: () => number;
  #generation = new Map<string, number>();
  #outageUntil = 0;

  constructor(options: StaleCacheOptions) {
    this.#ttlMs = options.ttlMs;
    this.#maxStaleMs = options.maxStaleMs;
    this.#absentTtlMs = options.absentTtlMs ?? 0;
    this.#outageBackoffMs = options.outageBackoffMs ?? 0;
    this.#now = options.now ?? Date.now;
    this.#lru = new LRUCache({ max: options.maxEntries });
    if (this.#absentTtlMs > 0) this.#absent = new LRUCache({ max: options.absentMaxEntries ?? 1000 });
  }

  get size(): number {
    return this.#lru.size;
  }

  /** True while stale entries are being served without asking the source first. */
  get inOutage(): boolean {
    return this.#now() < this.#outageUntil;
  }

  /**
   * The cached value, or the result of `load` (shared by concurrent callers).
   * `isOutage(err)` says whether a failed load means the source is down (then a
   * stale entry may serve); any other failure is thrown as it is.
   */
  async get(
    key: string,
    load: () => Promise<V | undefined>,
    isOutage: (err: unknown) => boolean,
  ): Promise<Lookup<V>> {
    const now = this.#now();
    const entry = this.#lru.get(key);
    if (entry && now < entry.freshUntil) return { value: entry.value, stale: false };
    if (!entry && this.#absent) {
      const until = this.#absent.get(key);
      if (until !== undefined && now < until) return { value: undefined, stale: false };
    }
    const servable = entry !== undefined && now < entry.staleUntil;
    if (servable && now < this.#outageUntil) {
      this.#load(key, load, isOutage).catch(() => {}); // refreshed behind; the caller does not wait
      return { value: entry.value, stale: true };
    }
    try {
      return { value: await this.#load(key, load, isOutage), stale: false };
    } catch (err) {
      if (servable && isOutage(err)) return { value: entry.value, stale: true };
      throw err;
    }
  }

  /** The entry while it is fresh, without a load or a promise (the proxy's cache-hit path); else undefined. */
  fresh(key: string): V | undefined {
    const entry = this.#lru.get(key);
    return entry !== undefined && this.#now() < entry.freshUntil ? entry.value : undefined;
  }

  /** Puts a known-good value in (after a write or a refresh). */
  set(key: string, value: V): void {
    this.#bump(key);
    this.#store(key, value);
  }

  delete(key: string): void {
    this.#bump(key);
    this.#lru.delete(key);
    this.#absent?.delete(key);
  }

  /** Forgets everything, loads in flight included (what they read is not kept). */
  clear(): void {
    const keys = [...this.#lru.keys(), ...this.#inflight.keys(), ...(this.#absent?.keys() ?? [])];
    for (const key of keys) this.delete(key);
  }

  #store(key: string, value: V | undefined): void {
    const now = this.#now();
    if (value === undefined) {
      this.#lru.delete(key);
      this.#absent?.set(key, now + this.#absentTtlMs);
      return;
    }
    this.#absent?.delete(key);
    this.#lru.set(key, {
      value,
      freshUntil: now + this.#ttlMs,
      staleUntil: now + this.#ttlMs + this.#maxStaleMs,
    });
  }

  #load(
    key: string,
    load: () => Promise<V | undefined>,
    isOutage: (err: unknown) => boolean,
  ): Promise<V | undefined> {
    const running = this.#inflight.get(key);
    if (running) return running;
    const generation = this.#generation.get(key) ?? 0;
    const promise = load()
      .then(
        (value) => {
          this.#outageUntil = 0;
          // A write or delete during the load wins over what the load read.
          if ((this.#generation.get(key) ?? 0) === generation) this.#store(key, value);
          return value;
        },
        (err: unknown) => {
          if (isOutage(err)) this.#outageUntil = this.#now() + this.#outageBackoffMs;
          throw err;
        },
      )
      .finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, promise);
    return promise;
  }

  #bump(key: string): void {
    this.#generation.set(key, (this.#generation.get(key) ?? 0) + 1);
    if (this.#generation.size > this.#lru.max * 2) this.#generation = new Map();
  }
}
