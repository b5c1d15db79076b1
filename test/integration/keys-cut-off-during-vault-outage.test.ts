import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ADMIN_TOKEN } from '../support/proxy.ts';
import { startTestKeygate, type TestKeygate } from '../support/keygate.ts';
import { uniqueTenant } from '../support/store.ts';
import { startUpstream, type FakeUpstream } from '../support/upstream.ts';
import { startVaultFront, type VaultFront } from '../support/vault-front.ts';
import { waitFor } from '../support/wait.ts';
import { credentialRef } from '../../src/credentials/ref.ts';

// Issues 8.3 and 8.4, through the whole proxy path: the Keygate key cache had no stale
// fallback (callers cut off once its entry expired, ~30 s into an outage), and stale
// serving waited out the whole Vault retry budget on every request.
const tenant = uniqueTenant('outage');
const vault = inject('vault');

describe('callers through a Vault outage', () => {
  let front: VaultFront;
  let upstream: FakeUpstream;
  let keygate: TestKeygate;
  let key: string;
  const call = (path = 'x', presented = key) =>
    fetch(`${keygate.url}/proxy/${tenant}/up/${path}`, { headers: { 'x-api-key': presented } });

  beforeAll(async () => {
    front = await startVaultFront(vault.address);
    upstream = await startUpstream();
    keygate = await startTestKeygate(
      `
vault: { retryBudgetMs: 300, timeoutMs: 60000 }
cache: { ttlSeconds: 0.1, maxStaleSeconds: 600, outageBackoffSeconds: 600 }
proxy: { keyCacheTtlSeconds: 0.1 }
admin: { token: ${ADMIN_TOKEN} }
integrations:
  up: { baseUrl: ${upstream.origin}, auth: { type: api_key } }
`,
      { VAULT_ADDR: front.address, VAULT_TOKEN: vault.token },
    );
    const admin = (method: string, path: string, body: unknown) =>
      fetch(`${keygate.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect(
      (await admin('PUT', `/v1/tenants/${tenant}/credentials/up`, { apiKey: 'outage-key-0123' })).status,
    ).toBe(200);
    const created = await admin('POST', '/v1/keys', { tenants: [tenant] });
    ({ key } = (await created.json()) as { key: string });
    expect((await call()).status).toBe(200);
  });
  afterAll(async () => {
    await keygate?.close();
    await front?.stop();
    await upstream?.stop();
  });

  it('keeps serving cached keys and credentials past their TTLs while Vault refuses connections', async () => {
    front.set('refuse');
    const cutAt = Date.now();
    await waitFor('both TTLs to pass', () => Date.now() - cutAt > 250);
    const res = await call();
    expect(res.status).toBe(200);
    expect(keygate.lines.some((l) => l.includes('credential_stale_served'))).toBe(true);
    // Never cached: Vault is asked, and its absence is a typed 503.
    const unknown = await call('x', `kg_${'0'.repeat(16)}.${'s'.repeat(43)}`);
    expect(unknown.status).toBe(503);
    expect(unknown.headers.get('x-keygate-error')).toBe('vault_unavailable');
  });

  it('serves stale at once during the back-off, without waiting on a Vault that hangs', async () => {
    // A Vault that accepts and never answers: a request waiting on it would hang for
    // vault.timeoutMs (60 s), past this test's timeout. Each must be served from the cache.
    front.set('hang');
    for (let i = 0; i < 5; i += 1) expect((await call(`stale-${i}`)).status).toBe(200);
    expect(upstream.received.filter((r) => r.url.startsWith('/stale-')).length).toBe(5);
  });

  it('recovers once Vault answers again', async () => {
    front.set('up');
    await waitFor(
      'Vault to take a write again',
      async () => {
        await keygate.store.put(credentialRef(tenant, 'up'), {
          authType: 'api_key',
          secret: { apiKey: 'after-key' },
          expiresAt: null,
        });
        return true;
      },
      { timeoutMs: 20_000 },
    );
    expect((await call()).status).toBe(200);
    expect(upstream.received.at(-1)?.headers.authorization).toBe('Bearer after-key');
  });
});
