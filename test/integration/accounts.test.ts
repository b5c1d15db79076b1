import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RefreshEvent } from '../../src/refresh/events.ts';
import type { TestKeygate } from '../support/keygate.ts';
import { startOAuthProvider, type OAuthProvider } from '../support/oauth-provider.ts';
import { startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import { uniqueTenant } from '../support/store.ts';
import { startUpstream, type FakeUpstream } from '../support/upstream.ts';
import { vaultAdmin } from '../support/vault-admin.ts';
import { credentialRef } from '../../src/credentials/ref.ts';

const vault = inject('vault');
const bao = vaultAdmin(vault);

describe('accounts: several credentials per tenant and integration', () => {
  let provider: OAuthProvider;
  let upstream: FakeUpstream;
  let keygate: TestKeygate & ProxyAdmin;
  let key: string;
  const events: RefreshEvent[] = [];

  beforeAll(async () => {
    provider = await startOAuthProvider();
    upstream = await startUpstream();
    keygate = await startProxyKeygate(`
vault: { prefix: keygate }
integrations:
  crm:
    baseUrl: ${upstream.origin}
    auth: { type: oauth2, tokenUrl: ${provider.tokenUrl}, clientId: ${provider.clientId}, clientSecret: ${provider.clientSecret} }
  crmapi:
    baseUrl: ${provider.url}/api
    auth: { type: oauth2, tokenUrl: ${provider.tokenUrl}, clientId: ${provider.clientId}, clientSecret: ${provider.clientSecret} }
  ai:
    baseUrl: ${upstream.origin}
    auth: { type: api_key }
    inject: { header: x-api-key, format: "{token}" }
`);
    ({ key } = await keygate.createKey({ tenants: ['*'] }));
    keygate.refresh.scheduler.on('refresh-success', (e: RefreshEvent) => events.push(e));
  });
  afterAll(async () => {
    await keygate?.close();
    await upstream?.stop();
    await provider?.stop();
  });

  const put = (tenant: string, integration: string, account: string | null, body: unknown) =>
    keygate.admin(
      'PUT',
      `/v1/tenants/${tenant}/credentials/${integration}${account === null ? '' : `/accounts/${account}`}`,
      body,
    );
  const proxied = async (tenant: string, integration: string, headers: Record<string, string> = {}) => {
    const before = upstream.received.length;
    const res = await fetch(`${keygate.url}/proxy/${tenant}/${integration}/v1/me`, {
      headers: { authorization: `Bearer ${key}`, ...headers },
    });
    await res.arrayBuffer();
    return { status: res.status, code: res.headers.get('x-keygate-error'), got: upstream.received[before] };
  };

  it('keeps one credential per account; the proxy picks it with keygate-account and never forwards the header', async () => {
    const tenant = uniqueTenant('acct');
    expect((await put(tenant, 'ai', null, { apiKey: 'key-default' })).status).toBe(200);
    const work = await put(tenant, 'ai', 'work', { apiKey: 'key-work' });
    expect(work.status).toBe(200);
    expect(await work.json()).toMatchObject({
      tenant,
      integration: 'ai',
      account: 'work',
      authType: 'api_key',
    });

    const plain = await proxied(tenant, 'ai');
    expect(plain.status).toBe(200);
    expect(plain.got?.headers['x-api-key']).toBe('key-default');
    const named = await proxied(tenant, 'ai', { 'keygate-account': 'work' });
    expect(named.got?.headers['x-api-key']).toBe('key-work');
    expect(named.got?.headers['keygate-account']).toBeUndefined();
    const explicitDefault = await proxied(tenant, 'ai', { 'keygate-account': 'default' });
    expect(explicitDefault.got?.headers['x-api-key']).toBe('key-default');

    const missing = await proxied(tenant, 'ai', { 'keygate-account': 'nobody' });
    expect([missing.status, missing.code, missing.got]).toEqual([404, 'credential_not_found', undefined]);
    for (const bad of ['Work', '../default', '-x', 'a'.repeat(64)]) {
      const res = await proxied(tenant, 'ai', { 'keygate-account': bad });
      expect([bad, res.status, res.code, res.got]).toEqual([bad, 400, 'invalid_name', undefined]);
    }

    const listed = await (await keygate.admin('GET', `/v1/tenants/${tenant}/credentials`)).json();
    expect(
      (listed as { credentials: { integration: string; account: string }[] }).credentials.map(
        (c) => `${c.integration}:${c.account}`,
      ),
    ).toEqual(['ai:default', 'ai:work']);
    const one = await keygate.admin('GET', `/v1/tenants/${tenant}/credentials/ai/accounts/work`);
    expect(await one.json()).toMatchObject({ account: 'work', authType: 'api_key' });
    const byDefaultPath = await keygate.admin('GET', `/v1/tenants/${tenant}/credentials/ai/accounts/default`);
    expect(await byDefaultPath.json()).toMatchObject({ account: 'default' });
  });

  it('deletes one account without touching the others (the default record is also the accounts folder)', async () => {
    const tenant = uniqueTenant('acctdel');
    await put(tenant, 'ai', null, { apiKey: 'key-default' });
    await put(tenant, 'ai', 'work', { apiKey: 'key-work' });
    await put(tenant, 'ai', 'home', { apiKey: 'key-home' });

    expect((await keygate.admin('DELETE', `/v1/tenants/${tenant}/credentials/ai`)).status).toBe(200);
    expect((await proxied(tenant, 'ai')).code).toBe('credential_not_found');
    expect((await proxied(tenant, 'ai', { 'keygate-account': 'work' })).got?.headers['x-api-key']).toBe(
      'key-work',
    );
    const del = await keygate.admin('DELETE', `/v1/tenants/${tenant}/credentials/ai/accounts/work`);
    expect(del.status).toBe(200);
    expect((await proxied(tenant, 'ai', { 'keygate-account': 'work' })).code).toBe('credential_not_found');
    expect((await proxied(tenant, 'ai', { 'keygate-account': 'home' })).got?.headers['x-api-key']).toBe(
      'key-home',
    );
    // KV itself: only home is left.
    const left = await bao('LIST', `secret/metadata/keygate/credentials/${tenant}/ai`);
    expect(left.body.data.keys).toEqual(['home']);
    const top = await bao('LIST', `secret/metadata/keygate/credentials/${tenant}`);
    expect(top.body.data.keys).toEqual(['ai/']);
  });

  it('a bad account name is a 400 invalid_name on every admin route, and nothing reaches Vault', async () => {
    const tenant = uniqueTenant('acctbad');
    for (const bad of ['Work', '-x', 'a'.repeat(64), 'a.b', 'a%2Fb']) {
      for (const [method, suffix, body] of [
        ['PUT', '', { apiKey: 'k' }],
        ['GET', '', undefined],
        ['DELETE', '', undefined],
        ['POST', '/refresh', undefined],
      ] as const) {
        const res = await keygate.admin(
          method,
          `/v1/tenants/${tenant}/credentials/ai/accounts/${bad}${suffix}`,
          body,
        );
        expect([bad, method, res.status, res.headers.get('x-keygate-error')]).toEqual([
          bad,
          method,
          400,
          'invalid_name',
        ]);
      }
    }
    const connect = await keygate.admin('POST', `/v1/tenants/${tenant}/connect/crm`, { account: 'Bad!' });
    expect([connect.status, connect.headers.get('x-keygate-error')]).toEqual([400, 'invalid_name']);
    expect((await bao('LIST', `secret/metadata/keygate/credentials/${tenant}`)).status).toBe(404);
  });

  it('refreshes, schedules and leases each account apart; events name the account', async () => {
    const tenant = uniqueTenant('acctref');
    const home = provider.issue(`${tenant}-home`);
    const work = provider.issue(`${tenant}-work`);
    await put(tenant, 'crm', null, {
      accessToken: home.accessToken,
      refreshToken: home.refreshToken,
      expiresIn: 3600,
    });
    await put(tenant, 'crm', 'work', {
      accessToken: work.accessToken,
      refreshToken: work.refreshToken,
      expiresIn: 3600,
    });
    const known = [...keygate.refresh.scheduler.known()].filter((ref) => ref.tenant === tenant);
    expect(known.map((ref) => `${ref.integration}:${ref.account}`).sort()).toEqual([
      'crm:default',
      'crm:work',
    ]);
    expect(keygate.refresh.scheduler.dueAt(credentialRef(tenant, 'crm', 'work'))).toBeGreaterThan(Date.now());

    const res = await keygate.admin('POST', `/v1/tenants/${tenant}/credentials/crm/accounts/work/refresh`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ account: 'work', status: 'active' });
    expect(provider.refreshTimes(`${tenant}-work`)).toHaveLength(1);
    expect(provider.refreshTimes(`${tenant}-home`)).toHaveLength(0);
    expect(events.filter((e) => e.tenant === tenant).map((e) => e.account)).toEqual(['work']);

    const fresh = provider.current(`${tenant}-work`);
    const stored = await keygate.store.read(credentialRef(tenant, 'crm', 'work'));
    expect(stored.secret).toMatchObject({
      accessToken: fresh?.accessToken,
      refreshToken: fresh?.refreshToken,
    });
    expect((await keygate.store.read(credentialRef(tenant, 'crm'))).secret.accessToken).toBe(
      home.accessToken,
    );
    // A lease of its own, beside the default account's.
    const lease = await bao('GET', `secret/data/keygate/leases/${tenant}/crm/work`);
    expect(lease.status).toBe(200);

    const through = await proxied(tenant, 'crm', { 'keygate-account': 'work' });
    expect(through.got?.headers.authorization).toBe(`Bearer ${fresh?.accessToken}`);
  });

  it('an upstream 401 refreshes the account the request named, and only that one', async () => {
    const tenant = uniqueTenant('acct401');
    const home = provider.issue(`${tenant}-home`);
    const work = provider.issue(`${tenant}-work`);
    await put(tenant, 'crmapi', null, {
      accessToken: home.accessToken,
      refreshToken: home.refreshToken,
      expiresIn: 3600,
    });
    await put(tenant, 'crmapi', 'work', {
      accessToken: 'stale',
      refreshToken: work.refreshToken,
      expiresIn: 3600,
    });
    const res = await fetch(`${keygate.url}/proxy/${tenant}/crmapi/me`, {
      headers: { authorization: `Bearer ${key}`, 'keygate-account': 'work' },
    });
    expect(res.status).toBe(200);
    expect(provider.refreshTimes(`${tenant}-work`)).toHaveLength(1);
    expect(provider.refreshTimes(`${tenant}-home`)).toHaveLength(0);
    expect((await keygate.store.read(credentialRef(tenant, 'crmapi', 'work'))).secret.accessToken).toBe(
      provider.current(`${tenant}-work`)?.accessToken,
    );
  });

  it('a ciphertext moved from one account to another does not decrypt', async () => {
    const tenant = uniqueTenant('acctmove');
    await put(tenant, 'ai', null, { apiKey: 'key-default' });
    await put(tenant, 'ai', 'work', { apiKey: 'key-work' });
    const from = await bao('GET', `secret/data/keygate/credentials/${tenant}/ai/work`);
    const target = await bao('GET', `secret/data/keygate/credentials/${tenant}/ai`);
    await bao('POST', `secret/data/keygate/credentials/${tenant}/ai`, {
      data: { ...target.body.data.data, ciphertext: from.body.data.data.ciphertext },
    });
    keygate.store.invalidate(credentialRef(tenant, 'ai'));
    const res = await proxied(tenant, 'ai');
    expect([res.status, res.code, res.got]).toEqual([500, 'credential_undecryptable', undefined]);
  });
});
