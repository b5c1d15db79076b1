import pLimit from 'p-limit';
import { StaleCache } from '../cache/stale-cache.ts';
import { KeygateError, isKeygateError } from '../errors.ts';
import type { KvStore } from '../vault/kv.ts';
import { hash, type KeyObject } from 'node:crypto';
import { generateKey, hashSecret, newSalt, parseKey, saltKey, secretMatches } from './key-format.ts';

/**
 * What a key may be used for; `tenants: ['*']` means every tenant, no `integrations`
 * every integration, no `accounts` every account (keys made before accounts had a say).
 */
export interface KeyScope {
  tenants: string[];
  integrations?: string[];
  accounts?: string[];
}

/** Keygate's own limits on a key's requests (docs/budgets.md#own-limits). */
export interface KeyLimits {
  requestsPerMinute?: number;
}

export interface KeyInfo extends KeyScope {
  id: string;
  name?: string;
  limits?: KeyLimits;
  createdAt: string;
}

interface StoredKey extends KeyInfo {
  salt: string;
  hash: string;
}

/** A key as the cache holds it: the salt ready as an HMAC key, the digest as bytes. */
interface CachedKey {
  info: KeyInfo;
  salt: KeyObject;
  hash: Buffer;
}

const toCached = ({ salt, hash, ...info }: StoredKey): CachedKey => ({
  info,
  salt: saltKey(salt),
  hash: Buffer.from(hash, 'base64url'),
});

export interface CallerKeysOptions {
  kv: KvStore;
  cacheTtlMs: number;
  cacheMaxEntries: number;
  /** While Vault is unavailable, a verified key keeps working this long past its TTL. */
  maxStaleMs?: number;
  /** Not-found memory (its own LRU) and outage back-off, as for credentials. */
  absentTtlMs?: number;
  absentMaxEntries?: number;
  outageBackoffMs?: number;
}

const DEFAULT_ABSENT_TTL_MS = 5_000;
const path = (id: string) => `keys/${id}`;

/**
 * Keygate keys, stored hashed in Vault KV under `keys/<id>`. Verified records are
 * cached so a cache hit costs no Vault call; concurrent misses for one id share a
 * read. A revoked key stops working at once on this replica and within the cache
 * TTL on the others.
 */
export class CallerKeys {
  readonly #kv: KvStore;
  // Ids Vault does not know live in the cache's separate absent LRU, so a flood of
  // made-up keys costs one Vault read per id and evicts no real key. While Vault is
  // unavailable a verified key serves stale, as credentials do: a key revoked on
  // another replica during an outage keeps working until maxStaleMs (the trade-off).
  readonly #cache: StaleCache<CachedKey>;
  /**
   * SHA-256 of a presented key already verified → the record it matched, so a repeat
   * caller costs one plain hash rather than an HMAC. Only while the cache still holds
   * that same record: a revoked or reloaded key is verified again.
   */
  readonly #verified = new Map<string, CachedKey>();
  readonly #maxVerified: number;

  constructor(options: CallerKeysOptions) {
    this.#kv = options.kv;
    this.#maxVerified = options.cacheMaxEntries;
    this.#cache = new StaleCache<CachedKey>({
      ttlMs: options.cacheTtlMs,
      maxStaleMs: options.maxStaleMs ?? 0,
      maxEntries: options.cacheMaxEntries,
      absentTtlMs: options.absentTtlMs ?? DEFAULT_ABSENT_TTL_MS,
      absentMaxEntries: options.absentMaxEntries ?? options.cacheMaxEntries,
      outageBackoffMs: options.outageBackoffMs ?? 0,
    });
  }

  /** Creates a key; the returned `key` is the only time its secret exists outside the caller. */
  async create(scope: KeyScope & { name?: string; limits?: KeyLimits }): Promise<KeyInfo & { key: string }> {
    const { id, secret, key } = generateKey();
    const salt = newSalt();
    const info: KeyInfo = {
      id,
      ...(scope.name === undefined ? {} : { name: scope.name }),
      tenants: [...scope.tenants],
      ...(scope.integrations === undefined ? {} : { integrations: [...scope.integrations] }),
      ...(scope.accounts === undefined ? {} : { accounts: [...scope.accounts] }),
      ...(scope.limits === undefined ? {} : { limits: { ...scope.limits } }),
      createdAt: new Date().toISOString(),
    };
    const stored: StoredKey = { ...info, salt, hash: hashSecret(secret, salt) };
    await this.#kv.write(path(id), { ...stored }, { cas: 0 });
    this.#cache.set(id, toCached(stored));
    return { ...info, key };
  }

  /** Deletes the key with every version; `key_not_found` when there is none. Answers what it was. */
  async revoke(id: string): Promise<KeyInfo | undefined> {
    const existing = await this.#kv.read(path(id));
    if (!existing) throw new KeygateError('key_not_found');
    await this.#kv.destroy(path(id));
    this.#cache.delete(id);
    const stored = toStoredKey(id, existing.data);
    if (!stored) return undefined;
    const { salt: _salt, hash: _hash, ...info } = stored;
    return info;
  }

  /** Forgets a cached key (revoked through another replica). */
  evict(id: string): void {
    this.#cache.delete(id);
  }

  /** Forgets every cached key. */
  clearCache(): void {
    this.#cache.clear();
  }

  /** Every key's id, name, scope and creation time, oldest first; never a secret or digest. */
  async list(): Promise<KeyInfo[]> {
    const ids = (await this.#kv.list('keys/')).filter((id) => !id.endsWith('/'));
    const limit = pLimit(8);
    const found = await Promise.all(ids.map((id) => limit(() => this.#read(id))));
    return found
      .filter((k): k is StoredKey => k !== undefined)
      .map(({ salt: _salt, hash: _hash, ...info }) => info)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /**
   * verify() without a promise when the key's record is cached fresh and this very key was
   * verified before (the proxy's cache-hit path): its record; undefined when verify() must
   * be asked (a miss, an expired entry, a key not seen yet, a wrong secret).
   */
  verifiedCached(presented: string): KeyInfo | undefined {
    const parts = parseKey(presented);
    if (!parts) return undefined;
    const cached = this.#cache.fresh(parts.id);
    if (cached === undefined) return undefined;
    return this.#verified.get(hash('sha256', presented, 'base64')) === cached ? cached.info : undefined;
  }

  /** The key's record when `presented` is a valid key, else undefined (a 401). */
  async verify(presented: string): Promise<KeyInfo | undefined> {
    const parts = parseKey(presented);
    if (!parts) return undefined;
    const { value: cached } = await this.#cache.get(
      parts.id,
      async () => {
        const stored = await this.#read(parts.id);
        return stored && toCached(stored);
      },
      (err) => isKeygateError(err, 'vault_unavailable'),
    );
    if (cached === undefined) return undefined;
    const seen = hash('sha256', presented, 'base64');
    if (this.#verified.get(seen) === cached) return cached.info;
    if (!secretMatches(parts.secret, cached.salt, cached.hash)) return undefined;
    // Bounded by clearing: a full map is rebuilt from the next verifications.
    if (this.#verified.size >= this.#maxVerified) this.#verified.clear();
    this.#verified.set(seen, cached);
    return cached.info;
  }

  async #read(id: string): Promise<StoredKey | undefined> {
    const record = await this.#kv.read(path(id));
    return record ? toStoredKey(id, record.data) : undefined;
  }
}

const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

function toStoredKey(id: string, data: Record<string, unknown>): StoredKey | undefined {
  const { salt, hash, tenants, integrations, accounts, name, createdAt, limits } = data;
  if (typeof salt !== 'string' || typeof hash !== 'string' || !strings(tenants)) return undefined;
  return {
    id,
    salt,
    hash,
    tenants,
    ...(strings(integrations) ? { integrations } : {}),
    ...(strings(accounts) ? { accounts } : {}),
    ...(typeof name === 'string' ? { name } : {}),
    ...limitsOf(limits),
    createdAt: typeof createdAt === 'string' ? createdAt : '',
  };
}

/** Limits as stored; anything unreadable is no limit (a key stored before limits existed has none). */
function limitsOf(value: unknown): { limits?: KeyLimits } {
  if (value === null || typeof value !== 'object') return {};
  const perMinute = (value as Record<string, unknown>)['requestsPerMinute'];
  return Number.isInteger(perMinute) && (perMinute as number) > 0
    ? { limits: { requestsPerMinute: perMinute as number } }
    : {};
}
