import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestKeygate } from '../support/keygate.ts';
import { startOAuthProvider, type OAuthProvider } from '../support/oauth-provider.ts';
import { startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';

const CANARY = 'canary-inventory-Hj38Qz';

interface Row {
  tenant: string;
  integration: string;
  account: string;
  authType: string;
  status: string;
  expiresAt: string | null;
  lastRefreshedAt: string | null;
  lastRefreshError: string | null;
  nextRefreshAt: string | null;
}
interface Page {
  credentials: Row[];
  nextCursor: string | null;
}

describe('GET /v1/credentials: the fleet-wide inventory', () => {
  let provider: OAuthProvider;
  let keygate: TestKeygate & ProxyAdmin;
  const answers: string[] = [];

  const get = async (query: string) => {
    const res = await keygate.admin('GET', `/v1/credentials${query}`);
    const text = await res.text();
    answers.push(text);
    return { status: res.status, code: res.headers.get('x-keygate-error'), body: JSON.parse(text) as Page };
  };
  const put = async (tenant: string, integration: string, account: string, body: unknown) => {
    const res = await keygate.admin(
      'PUT',
      `/v1/tenants/${tenant}/credentials/${integration}/accounts/${account}`,
      body,
    );
    expect(res.status).toBe(200);
  };

  beforeAll(async () => {
    provider = await startOAuthProvider();
    // A KV prefix of its own: the fleet is exactly what this test stores.
    keygate = await startProxyKeygate(`
vault: { prefix: kgtest-inv-${Math.random().toString(36).slice(2, 8)} }
integrations:
  crm:
    baseUrl: ${provider.url}/api
    auth: { type: oauth2, tokenUrl: ${provider.tokenUrl}, clientId: ${provider.clientId}, clientSecret: ${provider.clientSecret} }
  ai:
    baseUrl: ${provider.url}/api
    auth: { type: api_key }
`);
    const pair = provider.issue('inv-b');
    await put('alpha', 'ai', 'default', { apiKey: CANARY });
    await put('alpha', 'ai', 'work', { apiKey: CANARY });
    await put('alpha', 'crm', 'default', { accessToken: CANARY, refreshToken: CANARY, expiresIn: 3600 });
    await put('beta', 'crm', 'default', { ...pair, expiresIn: 3600 });
    await put('gamma', 'ai', 'default', { apiKey: CANARY });
    // alpha/crm's refresh token is refused by the provider: needs_reauth, invalid_grant.
    const refused = await keygate.admin('POST', '/v1/tenants/alpha/credentials/crm/refresh');
    expect(refused.status).toBe(401);
    const forced = await keygate.admin('POST', '/v1/tenants/beta/credentials/crm/refresh');
    expect(forced.status).toBe(200);
  });
  afterAll(async () => {
    await keygate?.close();
    await provider?.stop();
    expect([...answers, ...keygate.lines].join('\n')).not.toContain(CANARY);
  });

  it('lists every credential in order with status, expiry, last and next refresh, from metadata', async () => {
    const all = await get('');
    expect(all.status).toBe(200);
    expect(all.body.nextCursor).toBeNull();
    expect(all.body.credentials.map((c) => `${c.tenant}/${c.integration}/${c.account}`)).toEqual([
      'alpha/ai/default',
      'alpha/ai/work',
      'alpha/crm/default',
      'beta/crm/default',
      'gamma/ai/default',
    ]);
    const [key, , revoked, live] = all.body.credentials;
    expect(key).toMatchObject({
      authType: 'api_key',
      status: 'active',
      expiresAt: null,
      nextRefreshAt: null,
    });
    expect(revoked).toMatchObject({
      authType: 'oauth2',
      status: 'needs_reauth',
      lastRefreshError: 'invalid_grant',
      nextRefreshAt: null,
    });
    expect(live).toMatchObject({ authType: 'oauth2', status: 'active', lastRefreshError: null });
    expect(Date.parse(live?.lastRefreshedAt ?? '')).toBeGreaterThan(Date.now() - 60_000);
    // Due refresh.bufferSeconds (300) before the new token's expiry.
    expect(Date.parse(live?.nextRefreshAt ?? '')).toBe(Date.parse(live?.expiresAt ?? '') - 300_000);
  });

  it('pages with a cursor: every row once, in the same order', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await get(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.credentials.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.credentials.map((c) => `${c.tenant}/${c.integration}/${c.account}`));
      cursor = page.body.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 10);
    expect(seen).toEqual([
      'alpha/ai/default',
      'alpha/ai/work',
      'alpha/crm/default',
      'beta/crm/default',
      'gamma/ai/default',
    ]);
  });

  it('filters by tenant, integration, account and status', async () => {
    const names = async (query: string) =>
      (await get(query)).body.credentials.map((c) => `${c.tenant}/${c.integration}/${c.account}`);
    expect(await names('?tenant=alpha&integration=ai')).toEqual(['alpha/ai/default', 'alpha/ai/work']);
    expect(await names('?integration=crm')).toEqual(['alpha/crm/default', 'beta/crm/default']);
    expect(await names('?account=work')).toEqual(['alpha/ai/work']);
    expect(await names('?status=needs_reauth')).toEqual(['alpha/crm/default']);
    expect(await names('?status=active&limit=1')).toEqual(['alpha/ai/default']);
    expect(await names('?tenant=nobody')).toEqual([]);
  });

  it('answers bad filters, limits and cursors with a 400 and a stable code', async () => {
    for (const [query, code] of [
      ['?status=revoked', 'validation_failed'],
      ['?limit=0', 'validation_failed'],
      ['?limit=5000', 'validation_failed'],
      ['?cursor=not-a-cursor', 'validation_failed'],
      [`?cursor=${Buffer.from('["../x","a","b"]').toString('base64url')}`, 'validation_failed'],
      ['?tenant=Alpha', 'invalid_name'],
      ['?account=a%2Fb', 'invalid_name'],
      ['?unknown=1', 'validation_failed'],
    ] as const) {
      const res = await get(query);
      expect([query, res.status, res.code]).toEqual([query, 400, code]);
    }
    const noToken = await fetch(`${keygate.url}/v1/credentials`);
    expect(noToken.status).toBe(401);
  });
});
