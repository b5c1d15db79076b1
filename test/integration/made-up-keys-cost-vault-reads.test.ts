import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ADMIN_TOKEN } from '../support/proxy.ts';
import { startTestKeygate, type TestKeygate } from '../support/keygate.ts';
import { uniqueTenant } from '../support/store.ts';
import { startUpstream, type FakeUpstream } from '../support/upstream.ts';
import { startVaultFront, type VaultFront } from '../support/vault-front.ts';
import { credentialRef } from '../../src/credentials/ref.ts';

// Issue 8.6: made-up keys cost a Vault read each and evicted real keys from the shared
// cache; nothing throttled failed authentication; a made-up tenant cost a Vault read
// per request.
const tenant = uniqueTenant('madeup');
const vault = inject('vault');
const madeUpKey = () => `kg_${randomBytes(8).toString('hex')}.${randomBytes(32).toString('base64url')}`;

describe('made-up keys and tenants', () => {
  let front: VaultFront;
  let upstream: FakeUpstream;
  let keygate: TestKeygate;
  let key: string;
  let wildcard: string;
  const call = (presented: string, who = tenant) =>
    fetch(`${keygate.url}/proxy/${who}/up/x`, { headers: { 'x-api-key': presented } });

  beforeAll(async () => {
    front = await startVaultFront(vault.address);
    upstream = await startUpstream();
    keygate = await startTestKeygate(
      `
vault: { retryBudgetMs: 200 }
cache: { notFoundSeconds: 600, maxStaleSeconds: 0 }
proxy: { keyCacheMaxEntries: 2, keyCacheTtlSeconds: 600 }
authThrottle: { maxFailures: 30, windowSeconds: 600 }
admin: { token: ${ADMIN_TOKEN} }
integrations:
  up: { baseUrl: ${upstream.origin}, auth: { type: api_key } }
`,
      { VAULT_ADDR: front.address, VAULT_TOKEN: vault.token },
    );
    await keygate.store.put(credentialRef(tenant, 'up'), {
      authType: 'api_key',
      secret: { apiKey: 'real-0123' },
      expiresAt: null,
    });
    ({ key } = await keygate.keys.create({ tenants: [tenant] }));
    ({ key: wildcard } = await keygate.keys.create({ tenants: ['*'] }));
  });
  afterAll(async () => {
    await keygate?.close();
    await front?.stop();
    await upstream?.stop();
  });

  it('do not evict real keys, and a made-up id is asked of Vault once', async () => {
    expect((await call(key)).status).toBe(200);
    const flood = Array.from({ length: 10 }, madeUpKey);
    for (const k of flood) expect((await call(k)).status).toBe(401);
    // With Vault cut off, the real key still verifies (it was not evicted by the flood)
    // and the made-up ids are still known to be absent (no Vault read needed).
    front.set('refuse');
    try {
      expect((await call(key)).status).toBe(200);
      for (const k of flood) expect((await call(k)).status).toBe(401);
    } finally {
      front.set('up');
    }
  });

  it('remembers a tenant with no credential, so the next request asks Vault nothing', async () => {
    const ghost = uniqueTenant('ghost');
    const first = await call(wildcard, ghost);
    expect(first.headers.get('x-keygate-error')).toBe('credential_not_found');
    front.set('refuse');
    try {
      const again = await call(wildcard, ghost);
      expect(again.status).toBe(404);
      expect(again.headers.get('x-keygate-error')).toBe('credential_not_found');
    } finally {
      front.set('up');
    }
    // A credential stored on this replica is visible at once all the same.
    await keygate.store.put(credentialRef(ghost, 'up'), {
      authType: 'api_key',
      secret: { apiKey: 'now-0123' },
      expiresAt: null,
    });
    expect((await call(wildcard, ghost)).status).toBe(200);
  });

  it('throttles an address past its failures with 429 auth_throttled, counted in a metric', async () => {
    let status = 401;
    let attempts = 0;
    while (status === 401 && attempts < 100) {
      status = (await call(madeUpKey())).status;
      attempts += 1;
    }
    expect(status).toBe(429);
    const res = await call(madeUpKey());
    expect(res.headers.get('x-keygate-error')).toBe('auth_throttled');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    // 30 failures in all (10 made-up keys twice in the first test, then the rest here).
    expect((await call(key)).status).toBe(429);
    const metrics = await (await fetch(`${keygate.url}/metrics`)).text();
    expect(metrics).toMatch(/keygate_auth_failures_total\{outcome="rejected"\} 30\b/);
    expect(metrics).toMatch(/keygate_auth_failures_total\{outcome="throttled"\} [3-9]\b/);
  });
});
