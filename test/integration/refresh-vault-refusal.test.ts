import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTestKeygate, type TestKeygate } from '../support/keygate.ts';
import { startOAuthProvider, type OAuthProvider } from '../support/oauth-provider.ts';
import { providerIntegration } from '../support/refresh.ts';
import { connectSse, type SseClient } from '../support/sse.ts';
import { uniqueTenant } from '../support/store.ts';
import { vaultAdmin } from '../support/vault-admin.ts';
import { waitFor } from '../support/wait.ts';
import { jsonFetch } from '../support/http.ts';
import { credentialRef } from '../../src/credentials/ref.ts';

// Vault answers 403 to every KV write from Keygate's token right after the provider
// granted a refresh: the rotated pair exists only in Keygate's memory.
const vault = inject('vault');
const root = vaultAdmin(vault);
const ADMIN = 'admin-token-vault-refusal-0123456789';
const suffix = Math.random().toString(36).slice(2, 8);
const POLICY = `kgtest-refusal-${suffix}`;
const PREFIX = `kgtest-${suffix}`;

const policy = (kv: string) => `
path "secret/*" { capabilities = [${kv}] }
path "transit/*" { capabilities = ["create", "read", "update", "list"] }
path "auth/token/lookup-self" { capabilities = ["read"] }
path "auth/token/renew-self" { capabilities = ["update"] }
`;
const WRITABLE = policy('"create", "read", "update", "delete", "list"');
const READ_ONLY = policy('"read", "list"');
const setPolicy = async (text: string) => {
  const res = await root('PUT', `sys/policy/${POLICY}`, { policy: text });
  expect(res.status).toBeLessThan(300);
};

describe('Vault refusing writes just after a refresh', () => {
  let provider: OAuthProvider;
  let keygate: TestKeygate;
  let sse: SseClient;
  const tenant = uniqueTenant('refusal');

  beforeAll(async () => {
    provider = await startOAuthProvider({ expiresIn: 3600 });
    await setPolicy(WRITABLE);
    const token = await root('POST', 'auth/token/create', { policies: [POLICY], ttl: '1h' });
    keygate = await startTestKeygate(
      `vault: { prefix: ${PREFIX} }
cache: { ttlSeconds: 0.5 }
refresh: { minBackoffMs: 50, maxBackoffMs: 200, retries: 2 }
integrations:
${providerIntegration('crm', provider).replace(`baseUrl: ${provider.url}`, `baseUrl: ${provider.url}/api`)}`,
      { VAULT_ADDR: vault.address, VAULT_TOKEN: token.body.auth.client_token, KEYGATE_ADMIN_TOKEN: ADMIN },
    );
    sse = await connectSse(`${keygate.url}/v1/events`, { authorization: `Bearer ${ADMIN}` });
  });
  afterAll(async () => {
    sse?.close();
    await keygate?.close();
    await provider?.stop();
    await root('DELETE', `sys/policy/${POLICY}`);
  });

  const admin = (method: string, path: string, body?: unknown) =>
    jsonFetch(`${keygate.url}${path}`, method, body, ADMIN);
  const events = () =>
    sse.messages
      .map((m) => ({ event: m.event, ...JSON.parse(m.data ?? '{}') }))
      .filter((e) => e.tenant === tenant);
  const storedVersion = async () =>
    (await root('GET', `secret/metadata/${PREFIX}/credentials/${tenant}/crm`)).body.data
      .current_version as number;

  it('serves the new token from memory, then writes it once Vault takes writes again', async () => {
    const created = await admin('POST', '/v1/keys', { tenants: [tenant] });
    expect(created.status).toBe(201);
    const { key } = (await created.json()) as { key: string };
    const first = provider.issue('refusal');
    await keygate.store.put(credentialRef(tenant, 'crm'), {
      authType: 'oauth2',
      secret: first,
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
    });
    const versionBefore = await storedVersion();
    provider.beforeAnswer = async () => {
      provider.beforeAnswer = undefined;
      await setPolicy(READ_ONLY);
    };

    const forced = await admin('POST', `/v1/tenants/${tenant}/credentials/crm/refresh`);
    expect(forced.status).toBe(200);
    const live = provider.current('refusal');
    expect(live?.refreshToken).not.toBe(first.refreshToken);
    await waitFor('refresh-failed with persisted: false', () =>
      events().some((e) => e.event === 'refresh-failed' && e.persisted === false),
    );
    expect(await storedVersion()).toBe(versionBefore);
    expect(provider.isValidAccessToken(first.accessToken)).toBe(false);

    // Proxied requests keep working on the new token, for longer than the cache TTL.
    const proxied = () =>
      fetch(`${keygate.url}/proxy/${tenant}/crm/things`, { headers: { authorization: `Bearer ${key}` } });
    const until = Date.now() + 1500;
    let served = 0;
    while (Date.now() < until) {
      const res = await proxied();
      expect(res.status).toBe(200);
      served += 1;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(served).toBeGreaterThan(5);
    expect(provider.counts.refreshes).toBe(1);

    await setPolicy(WRITABLE);
    await waitFor(
      'refresh-success with persisted: true',
      () => events().some((e) => e.event === 'refresh-success' && e.persisted === true),
      { timeoutMs: 5000 },
    );
    expect(await storedVersion()).toBeGreaterThan(versionBefore);
    keygate.store.invalidate(credentialRef(tenant, 'crm'));
    const stored = await keygate.store.read(credentialRef(tenant, 'crm'));
    expect(stored.secret.refreshToken).toBe(live?.refreshToken);
    expect(stored.secret.accessToken).toBe(live?.accessToken);
    expect((await proxied()).status).toBe(200);
    expect(provider.counts.invalidGrant).toBe(0);
    expect(events().map((e) => e.event)).toEqual(['refresh-failed', 'refresh-success', 'refresh-scheduled']);
    for (const token of provider.issuedTokens()) {
      expect(sse.raw()).not.toContain(token);
      expect(keygate.lines.join('\n')).not.toContain(token);
    }
  });
});
