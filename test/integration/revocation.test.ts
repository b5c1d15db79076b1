import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { KeygateEvent } from '../../src/events/catalogue.ts';
import type { TestKeygate } from '../support/keygate.ts';
import { startOAuthProvider, type OAuthProvider } from '../support/oauth-provider.ts';
import { startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import { uniqueTenant } from '../support/store.ts';
import { vaultAdmin } from '../support/vault-admin.ts';

const bao = vaultAdmin(inject('vault'));

/** A loopback port nothing listens on: a provider that is down. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('DELETE of an OAuth credential revokes it at the provider (RFC 7009)', () => {
  let provider: OAuthProvider;
  let postProvider: OAuthProvider;
  let keygate: TestKeygate & ProxyAdmin;
  const events: KeygateEvent[] = [];

  beforeAll(async () => {
    provider = await startOAuthProvider();
    postProvider = await startOAuthProvider({ authMethod: 'client_secret_post' });
    const dead = await deadPort();
    const auth = (p: OAuthProvider, revocationUrl = p.revocationUrl) =>
      `{ type: oauth2, tokenUrl: ${p.tokenUrl}, revocationUrl: ${revocationUrl}, clientId: ${p.clientId}, clientSecret: ${p.clientSecret}, tokenEndpointAuthMethod: ${p.options.authMethod} }`;
    keygate = await startProxyKeygate(`
refresh: { tokenTimeoutMs: 2000 }
integrations:
  crm: { baseUrl: ${provider.url}/api, auth: ${auth(provider)} }
  posted: { baseUrl: ${postProvider.url}/api, auth: ${auth(postProvider)} }
  down: { baseUrl: ${provider.url}/api, auth: ${auth(provider, `http://127.0.0.1:${dead}/revoke`)} }
  norevoke:
    baseUrl: ${provider.url}/api
    auth: { type: oauth2, tokenUrl: ${provider.tokenUrl}, clientId: ${provider.clientId}, clientSecret: ${provider.clientSecret} }
  ai: { baseUrl: ${provider.url}/api, auth: { type: api_key } }
`);
    keygate.events.subscribe((e) => events.push(e));
  });
  afterAll(async () => {
    await keygate?.close();
    await provider?.stop();
    await postProvider?.stop();
    // No token in any log line or event.
    const everything = [...keygate.lines, JSON.stringify(events)].join('\n');
    for (const token of [...provider.issuedTokens(), ...postProvider.issuedTokens()]) {
      expect(everything).not.toContain(token);
    }
  });

  const stored = async (tenant: string, integration: string, p: OAuthProvider, account?: string) => {
    const pair = p.issue(`${tenant}-${integration}-${account ?? 'default'}`);
    const path = `/v1/tenants/${tenant}/credentials/${integration}${account ? `/accounts/${account}` : ''}`;
    expect((await keygate.admin('PUT', path, { ...pair, expiresIn: 3600 })).status).toBe(200);
    return { pair, path };
  };
  const gone = async (tenant: string, integration: string) =>
    (await bao('GET', `secret/metadata/keygate/credentials/${tenant}/${integration}`)).status === 404;

  it('revokes the refresh token then the access token, destroys the record, and says so', async () => {
    const tenant = uniqueTenant('revoke');
    const { pair, path } = await stored(tenant, 'crm', provider);
    const res = await keygate.admin('DELETE', path);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ deleted: true, revoked: true });
    expect(provider.revocations.slice(-2)).toEqual([
      { token: pair.refreshToken, tokenTypeHint: 'refresh_token' },
      { token: pair.accessToken, tokenTypeHint: 'access_token' },
    ]);
    expect(provider.isRevoked(`${tenant}-crm-default`)).toBe(true);
    expect(await gone(tenant, 'crm')).toBe(true);
    const deleted = events.filter((e) => e.type === 'credential-deleted' && e.data.tenant === tenant);
    expect(deleted.map((e) => e.data)).toMatchObject([
      { tenant, integration: 'crm', account: 'default', revocation: 'revoked' },
    ]);
  });

  it("uses the integration's client authentication (client_secret_post) and the named account", async () => {
    const tenant = uniqueTenant('revokepost');
    const home = await stored(tenant, 'posted', postProvider);
    const work = await stored(tenant, 'posted', postProvider, 'work');
    const res = await keygate.admin('DELETE', work.path);
    expect(await res.json()).toEqual({ deleted: true, revoked: true });
    expect(postProvider.revocations.map((r) => r.token)).toContain(work.pair.refreshToken);
    expect(postProvider.revocations.map((r) => r.token)).not.toContain(home.pair.refreshToken);
    expect(postProvider.isRevoked(`${tenant}-posted-default`)).toBe(false);
    expect((await keygate.admin('GET', home.path)).status).toBe(200);
  });

  it('destroys the record even when the provider is down or failing, and says why it was not revoked', async () => {
    const tenant = uniqueTenant('revokedown');
    const down = await stored(tenant, 'down', provider);
    const res = await keygate.admin('DELETE', down.path);
    expect([res.status, await res.json()]).toEqual([
      200,
      { deleted: true, revoked: false, reason: 'provider_unavailable' },
    ]);
    expect(await gone(tenant, 'down')).toBe(true);

    const failing = await stored(tenant, 'crm', provider);
    provider.failRevocations(503);
    const again = await keygate.admin('DELETE', failing.path);
    expect(await again.json()).toEqual({ deleted: true, revoked: false, reason: 'provider_unavailable' });
    expect(await gone(tenant, 'crm')).toBe(true);
    const results = events
      .filter((e) => e.type === 'credential-deleted' && e.data.tenant === tenant)
      .map((e) => (e.data as { revocation?: string }).revocation);
    expect(results).toEqual(['failed', 'failed']);
    expect(keygate.lines.some((l) => l.includes('credential_revocation_failed'))).toBe(true);
  });

  it('without a revocationUrl, or for an API key, deletes and says it could not revoke', async () => {
    const tenant = uniqueTenant('revokenone');
    const { path } = await stored(tenant, 'norevoke', provider);
    expect(await (await keygate.admin('DELETE', path)).json()).toEqual({
      deleted: true,
      revoked: false,
      reason: 'no_revocation_url',
    });
    const key = `/v1/tenants/${tenant}/credentials/ai`;
    expect((await keygate.admin('PUT', key, { apiKey: 'k-123' })).status).toBe(200);
    expect(await (await keygate.admin('DELETE', key)).json()).toEqual({
      deleted: true,
      revoked: false,
      reason: 'not_oauth',
    });
    const missing = await keygate.admin('DELETE', key);
    expect([missing.status, missing.headers.get('x-keygate-error')]).toEqual([404, 'credential_not_found']);
  });
});
