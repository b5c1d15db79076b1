import { LRUCache } from 'lru-cache';
import type { Credential } from './types.ts';

interface Entry {
  credential: Credential;
  freshUntil: number;
  staleUntil: number;
}

export interface CredentialCacheOptions {
  ttlMs: number;
  maxStaleMs: number;
  maxEntries: number;
  now?: () => number;
}

/**
 * Decrypted credentials, bounded (LRU) and short-lived. A fresh entry serves at once;
 * concurrent misses for one key share one load; when a load fails because Vault is
 * unavailable, an entry past its TTL still serves until `maxStaleMs` past it.
 */
export class CredentialCache {
  readonly #lru: LRUCache<string, Entry>;
  readonly #inflight = new Map<string, Promise<Credential>>();
  readonly #ttlMs: number;
  readonly #maxStaleMs: number;
  readonly #now: () => number;
  #generation = new Map<string, number>();

  constructor(options: CredentialCacheOptions) {
    this.#ttlMs = options.ttlMs;
    this.#maxStaleMs = options.maxStaleMs;
    this.#now = options.now ?? Date.now;
    this.#lru = new LRUCache({ max: options.maxEntries });
  }

  get size(): number {
    return this.#lru.size;
  }

  /**
   * The cached credential, or the result of `load` (shared by concurrent callers).
   * `canServeStale(err)` says whether a failed load may fall back to a stale entry.
   */
  async get(
    key: string,
    load: () => Promise<Credential>,
    canServeStale: (err: unknown) => boolean,
  ): Promise<{ credential: Credential; stale: boolean }> {
    const entry = this.#lru.get(key);
    const now = this.#now();
    if (entry && now < entry.freshUntil) return { credential: entry.credential, stale: false };
    try {
      return { credential: await this.#load(key, load), stale: false };
    } catch (err) {
      if (entry && now < entry.staleUntil && canServeStale(err))
        return { credential: entry.credential, stale: true };
      throw err;
    }
  }

  /** Puts a known-good credential in (after a write or a refresh). */
  set(key: string, credential: Credential): void {
    this.#bump(key);
    const now = this.#now();
    this.#lru.set(key, {
      credential,
      freshUntil: now + this.#ttlMs,
      staleUntil: now + this.#ttlMs + this.#maxStaleMs,
    });
  }

  delete(key: string): void {
    this.#bump(key);
    this.#lru.delete(key);
  }

  #load(key: string, load: () => Promise<Credential>): Promise<Credential> {
    const running = this.#inflight.get(key);
    if (running) return running;
    const generation = this.#generation.get(key) ?? 0;
    const promise = load()
      .then((credential) => {
        // A write or delete during the load wins over what the load read.
        if ((this.#generation.get(key) ?? 0) === generation) this.set(key, credential);
        return credential;
      })
      .finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, promise);
    return promise;
  }

  #bump(key: string): void {
    this.#generation.set(key, (this.#generation.get(key) ?? 0) + 1);
    if (this.#generation.size > this.#lru.max * 2) this.#generation = new Map();
  }
}
