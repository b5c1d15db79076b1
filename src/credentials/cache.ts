import { StaleCache, type StaleCacheOptions } from '../cache/stale-cache.ts';
import { KeygateError, isKeygateError } from '../errors.ts';
import type { Credential } from './types.ts';

export type CredentialCacheOptions = StaleCacheOptions;

const notFoundAsUndefined = (err: unknown): undefined => {
  if (isKeygateError(err, 'credential_not_found')) return undefined;
  throw err;
};

/**
 * Decrypted credentials, bounded (LRU) and short-lived, on a StaleCache: fresh
 * entries serve at once, concurrent misses share one load, and while Vault is
 * unavailable a cached credential serves up to `maxStaleMs` past its TTL. A
 * credential that does not exist is remembered for `absentTtlMs` (in a separate,
 * small LRU), so made-up tenants cost one Vault read each, not one per request.
 */
export class CredentialCache {
  readonly #cache: StaleCache<Credential>;

  constructor(options: CredentialCacheOptions) {
    this.#cache = new StaleCache<Credential>(options);
  }

  get size(): number {
    return this.#cache.size;
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
    const { value, stale } = await this.#cache.get(
      key,
      () => load().catch(notFoundAsUndefined),
      canServeStale,
    );
    if (value === undefined) throw new KeygateError('credential_not_found');
    return { credential: value, stale };
  }

  /** The credential while its entry is fresh; undefined when get() must be asked. */
  fresh(key: string): Credential | undefined {
    return this.#cache.fresh(key);
  }

  /** Puts a known-good credential in (after a write or a refresh). */
  set(key: string, credential: Credential): void {
    this.#cache.set(key, credential);
  }

  delete(key: string): void {
    this.#cache.delete(key);
  }

  /** Forgets everything, loads in flight included (what they read is not kept). */
  clear(): void {
    this.#cache.clear();
  }
}
