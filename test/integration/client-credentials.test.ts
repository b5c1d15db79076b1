import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TestKeygate } from '../support/keygate.ts';
import { startOAuthProvider, type OAuthProvider } from '../support/oauth-provider.ts';
import { startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import { uniqueTenant } from '../support/store.ts';
import { vaultAdmin } from '../support/vault-admin.ts';
import { credentialRef } from '../../src/credentials/ref.ts';

const bao = vaultAdmin(inject('vault'));

describe('client credentials: PUT fetches the first token, no placeholder', () => {
  let shared: OAuthProvider;
  let own: OAuthProvider;
  let keygate: TestKeygate & ProxyAdmin;

  beforeAll(async () => {
    shared = await startOAuthProvider();
    own = await startOAuthProvider({ clientId: 'tenant-own-client' });
    keygate = await startProxyKeygate(`
integrations:
  machine:
    baseUrl: ${shared.url}/api
    auth: { type: oauth2_client_credentials, tokenUrl: ${shared.tokenUrl}, clientId: ${shared.clientId}, clientSecret: ${shared.clientSecret} }
  byo:
    baseUrl: ${own.url}/api
    auth: { type: oauth2_client_credentials, tokenUrl: ${own.tokenUrl}, clientId: a-client-this-provider-refuses }
`);
  });
  afterAll(async () => {
    await keygate?.close();
    await shared?.stop();
    await own?.stop();
    const everything = keygate.lines.join('\n');
    for (const secret of [
      shared.clientSecret,
      own.clientSecret,
      ...shared.issuedTokens(),
      ...own.issuedTokens(),
    ]) {
      expect(everything).not.toContain(secret);
    }
  });

  const path = (tenant: string, integration: string) => `/v1/tenants/${tenant}/credentials/${integration}`;
  const inVault = async (tenant: string, integration: string) =>
    (await bao('GET', `secret/metadata/keygate/credentials/${tenant}/${integration}`)).status !== 404;

  it("{} uses the integration's client: a live token at once, proxied, refreshed", async () => {
    const tenant = uniqueTenant('cc');
    const res = await keygate.admin('PUT', path(tenant, 'machine'), {});
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(JSON.parse(text)).toMatchObject({ authType: 'oauth2_client_credentials', status: 'active' });
    expect(text).not.toContain(shared.clientSecret);
    const stored = await keygate.store.read(credentialRef(tenant, 'machine'));
    expect(shared.isValidAccessToken(stored.secret.accessToken ?? '')).toBe(true);
    expect(stored.secret.clientSecret).toBeUndefined();
    const { key } = await keygate.createKey({ tenants: [tenant] });
    const proxied = await fetch(`${keygate.url}/proxy/${tenant}/machine/me`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(proxied.status).toBe(200);
  });

  it("the tenant's own client is kept encrypted and used for every later token", async () => {
    const tenant = uniqueTenant('ccown');
    const body = { clientId: own.clientId, clientSecret: own.clientSecret };
    expect((await keygate.admin('PUT', path(tenant, 'byo'), body)).status).toBe(200);
    const raw = JSON.stringify(await bao('GET', `secret/data/keygate/credentials/${tenant}/byo`));
    expect(raw).not.toContain(own.clientSecret);
    const before = (await keygate.store.read(credentialRef(tenant, 'byo'))).secret.accessToken;
    const refreshed = await keygate.admin('POST', `${path(tenant, 'byo')}/refresh`);
    expect(refreshed.status).toBe(200);
    const after = await keygate.store.read(credentialRef(tenant, 'byo'));
    expect(after.secret.accessToken).not.toBe(before);
    expect(after.secret.clientId).toBe(own.clientId);
    expect(own.isValidAccessToken(after.secret.accessToken ?? '')).toBe(true);
  });

  it('a refused client or a failing endpoint is the refresh error, and nothing is written', async () => {
    const tenant = uniqueTenant('ccbad');
    const refused = await keygate.admin('PUT', path(tenant, 'byo'), {
      clientId: own.clientId,
      clientSecret: 'wrong-secret',
    });
    expect([refused.status, refused.headers.get('x-keygate-error')]).toEqual([
      401,
      'credential_refresh_failed',
    ]);
    const integrationsClient = await keygate.admin('PUT', path(tenant, 'byo'), {});
    expect(integrationsClient.headers.get('x-keygate-error')).toBe('credential_refresh_failed');
    own.inject({ status: 503 });
    const down = await keygate.admin('PUT', path(tenant, 'byo'), {
      clientId: own.clientId,
      clientSecret: own.clientSecret,
    });
    expect([down.status, down.headers.get('x-keygate-error')]).toEqual([502, 'token_endpoint_unavailable']);
    for (const [integration, body, field] of [
      ['byo', { clientSecret: 's' }, 'body.clientId'],
      ['byo', { refreshToken: 'r' }, 'body.refreshToken'],
    ] as const) {
      const res = await keygate.admin('PUT', path(tenant, integration), body);
      expect([res.status, res.headers.get('x-keygate-error')]).toEqual([400, 'validation_failed']);
      expect(JSON.stringify(await res.json())).toContain(field);
    }
    expect(await inVault(tenant, 'byo')).toBe(false);
    expect(await inVault(tenant, 'machine')).toBe(false);
  });
});
