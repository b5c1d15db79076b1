import { describe, expect, it } from 'vitest';
import { KeygateError, isKeygateError } from '../errors.ts';
import { CredentialCache } from './cache.ts';
import type { Credential } from './types.ts';

const credential = (token: string): Credential => ({
  tenant: 'acme',
  integration: 'github',
  account: 'default',
  authType: 'oauth2',
  status: 'active',
  expiresAt: null,
  scopes: [],
  createdAt: '',
  updatedAt: '',
  lastRefreshedAt: null,
  secret: { accessToken: token },
  version: 1,
});

const vaultDown = () => Promise.reject(new KeygateError('vault_unavailable'));
const staleOnVaultDown = (err: unknown) => isKeygateError(err, 'vault_unavailable');

function setup() {
  let now = 1_000_000;
  const cache = new CredentialCache({ ttlMs: 1000, maxStaleMs: 5000, maxEntries: 2, now: () => now });
  return { cache, advance: (ms: number) => (now += ms) };
}

describe('CredentialCache', () => {
  it('shares one load between concurrent misses', async () => {
    const { cache } = setup();
    let loads = 0;
    let release: (c: Credential) => void = () => {};
    const load = () => {
      loads += 1;
      return new Promise<Credential>((resolve) => (release = resolve));
    };
    const all = Promise.all(Array.from({ length: 20 }, () => cache.get('k', load, staleOnVaultDown)));
    release(credential('t1'));
    const results = await all;
    expect(loads).toBe(1);
    expect(results.every((r) => r.credential.secret.accessToken === 't1' && !r.stale)).toBe(true);
  });

  it('serves a fresh entry without loading, reloads after the TTL', async () => {
    const { cache, advance } = setup();
    cache.set('k', credential('t1'));
    const fail = () => Promise.reject(new Error('must not load'));
    expect((await cache.get('k', fail, staleOnVaultDown)).credential.secret.accessToken).toBe('t1');
    advance(1001);
    const reloaded = await cache.get('k', () => Promise.resolve(credential('t2')), staleOnVaultDown);
    expect(reloaded.credential.secret.accessToken).toBe('t2');
  });

  it('serves a stale entry while Vault is down, up to maxStale past the TTL, then fails', async () => {
    const { cache, advance } = setup();
    cache.set('k', credential('t1'));
    advance(3000);
    expect(await cache.get('k', vaultDown, staleOnVaultDown)).toMatchObject({ stale: true });
    // Other failures (a decryption error, a missing record) are never hidden by the cache.
    await expect(
      cache.get('k', () => Promise.reject(new KeygateError('credential_not_found')), staleOnVaultDown),
    ).rejects.toMatchObject({ code: 'credential_not_found' });
    advance(3001);
    await expect(cache.get('k', vaultDown, staleOnVaultDown)).rejects.toMatchObject({
      code: 'vault_unavailable',
    });
  });

  it('lets a write during a load win over what the load read, and stays bounded', async () => {
    const { cache } = setup();
    let release: (c: Credential) => void = () => {};
    const pending = cache.get('k', () => new Promise<Credential>((r) => (release = r)), staleOnVaultDown);
    cache.set('k', credential('written'));
    release(credential('read-before-write'));
    await pending;
    const fail = () => Promise.reject(new Error('must not load'));
    expect((await cache.get('k', fail, staleOnVaultDown)).credential.secret.accessToken).toBe('written');
    cache.set('a', credential('a'));
    cache.set('b', credential('b'));
    expect(cache.size).toBe(2);
  });
});
