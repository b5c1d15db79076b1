import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { completeConnect } from '../support/browser.ts';
import { providerIntegration } from '../support/connect.ts';
import type { TestKeygate } from '../support/keygate.ts';
import { startOAuthProvider, type OAuthProvider } from '../support/oauth-provider.ts';
import { startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import { uniqueTenant } from '../support/store.ts';
import { startTokenIssuer, type TokenIssuer } from '../support/token-issuer.ts';
import { startUpstream, type FakeUpstream } from '../support/upstream.ts';
import { credentialRef } from '../../src/credentials/ref.ts';

/**
 * Per-user accounts, enforced: a token whose issuer maps `account` is pinned to it, a
 * key may be limited to accounts, and `keygate-account` naming another is 403
 * `account_not_allowed` before any credential is read (HTTP and WebSocket alike). A
 * connect link offered to a token-identified caller connects that caller's account.
 */
describe('accounts a caller may use', () => {
  let issuer: TokenIssuer;
  let provider: OAuthProvider;
  let upstream: FakeUpstream;
  let keygate: TestKeygate & ProxyAdmin;
  const tenant = uniqueTenant('accounts');
  const keyOf = (account: string) => `upstream-key-of-${account}`;

  beforeAll(async () => {
    issuer = await startTokenIssuer();
    provider = await startOAuthProvider();
    upstream = await startUpstream((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ key: req.headers['x-api-key'] ?? req.headers.authorization ?? null }));
    });
    keygate = await startProxyKeygate(`
callers:
  issuers:
    - issuer: ${issuer.issuer}
      audience: [keygate-tests]
      tenant: { value: ${tenant} }
      account: { claim: sub }
      scopes: [keygate:proxy]
integrations:
  echo:
    baseUrl: ${upstream.origin}
    auth: { type: api_key }
    inject: { header: x-api-key, format: "{token}" }
${providerIntegration('remote', provider, {}, upstream.origin)}`);
    for (const account of ['default', 'alice', 'bob', hashed('Alice@Example.com')]) {
      const res = await keygate.admin('PUT', `/v1/tenants/${tenant}/credentials/echo/accounts/${account}`, {
        apiKey: keyOf(account),
      });
      expect(res.status).toBe(200);
    }
  });
  afterAll(async () => {
    await keygate?.close();
    await upstream?.stop();
    await provider?.stop();
    await issuer?.stop();
  });

  const hashed = (value: string) => `u-${createHash('sha256').update(value).digest('hex').slice(0, 32)}`;
  const tokenFor = (sub: string) => issuer.sign({ sub, aud: 'keygate-tests' });
  async function call(credential: string, account?: string, integration = 'echo') {
    const res = await fetch(`${keygate.url}/proxy/${tenant}/${integration}/x`, {
      headers: { authorization: `Bearer ${credential}`, ...(account ? { 'keygate-account': account } : {}) },
    });
    const text = await res.text();
    return {
      status: res.status,
      code: res.headers.get('x-keygate-error'),
      body: JSON.parse(text) as Record<string, any>,
    };
  }

  it('a token is pinned to its sub’s account; naming another is 403 account_not_allowed, upstream untouched', async () => {
    const alice = await tokenFor('alice');
    expect(await call(alice)).toMatchObject({ status: 200, body: { key: keyOf('alice') } });
    expect(await call(alice, 'alice')).toMatchObject({ status: 200, body: { key: keyOf('alice') } });
    const before = upstream.received.length;
    for (const other of ['bob', 'default']) {
      expect(await call(alice, other)).toMatchObject({ status: 403, code: 'account_not_allowed' });
    }
    expect(await call(alice, 'Not Valid')).toMatchObject({ status: 400, code: 'invalid_name' });
    expect(upstream.received.length).toBe(before);
  });

  it('a claim that is not a valid name maps to u- and 32 hex of its SHA-256', async () => {
    const res = await call(await tokenFor('Alice@Example.com'));
    expect(res).toMatchObject({ status: 200, body: { key: keyOf(hashed('Alice@Example.com')) } });
    expect(await call(await tokenFor('Alice@Example.com'), 'alice')).toMatchObject({
      status: 403,
      code: 'account_not_allowed',
    });
  });

  it('keys: accounts in the admin API; a one-account key uses it, a several-account key needs the header, old keys every account', async () => {
    const created = await keygate.admin('POST', '/v1/keys', {
      tenants: [tenant],
      accounts: ['alice'],
      name: 'alice only',
    });
    expect(created.status).toBe(201);
    const one = (await created.json()) as { id: string; key: string; accounts: string[] };
    expect(one.accounts).toEqual(['alice']);
    const { key: two } = (await (
      await keygate.admin('POST', '/v1/keys', { tenants: [tenant], accounts: ['alice', 'bob'] })
    ).json()) as { key: string };
    const { key: every } = await keygate.createKey({ tenants: [tenant] });

    expect(await call(one.key)).toMatchObject({ status: 200, body: { key: keyOf('alice') } });
    expect(await call(one.key, 'bob')).toMatchObject({ status: 403, code: 'account_not_allowed' });
    expect(await call(two, 'bob')).toMatchObject({ status: 200, body: { key: keyOf('bob') } });
    expect(await call(two)).toMatchObject({ status: 403, code: 'account_not_allowed' });
    expect(await call(every)).toMatchObject({ status: 200, body: { key: keyOf('default') } });
    expect(await call(every, 'bob')).toMatchObject({ status: 200, body: { key: keyOf('bob') } });

    const listed = (await (await keygate.admin('GET', '/v1/keys')).json()) as {
      keys: Array<{ id: string; accounts?: string[] }>;
    };
    expect(listed.keys.find((k) => k.id === one.id)?.accounts).toEqual(['alice']);
    const bad = await keygate.admin('POST', '/v1/keys', { tenants: [tenant], accounts: ['Not Valid'] });
    expect([bad.status, bad.headers.get('x-keygate-error')]).toEqual([400, 'validation_failed']);
    await bad.text();
  });

  it('the same decision on WebSocket upgrades', async () => {
    const ws = new WebSocket(`${keygate.url.replace('http', 'ws')}/proxy/${tenant}/echo/socket`, {
      headers: { authorization: `Bearer ${await tokenFor('alice')}`, 'keygate-account': 'bob' },
    });
    const answer = await new Promise<IncomingMessage>((resolve, reject) => {
      ws.once('unexpected-response', (_req, res) => resolve(res));
      ws.once('open', () => reject(new Error('opened')));
      ws.once('error', reject);
    });
    expect([answer.statusCode, answer.headers['x-keygate-error']]).toEqual([403, 'account_not_allowed']);
    answer.resume();
  });

  it('a connect link offered to a token caller connects that caller’s account, and only it', async () => {
    const carol = await tokenFor('carol');
    const offered = await call(carol, undefined, 'remote');
    expect(offered).toMatchObject({
      status: 401,
      code: 'reauth_required',
      body: { account: 'carol', tenant },
    });
    await completeConnect(offered.body['connect_url'], offered.body['confirmation_code']);
    expect((await keygate.store.read(credentialRef(tenant, 'remote', 'carol'))).status).toBe('active');
    expect(await keygate.store.has(credentialRef(tenant, 'remote'))).toBe(false);
    const after = await call(carol, undefined, 'remote');
    expect(after.status).toBe(200);
    expect(provider.isValidAccessToken(String(after.body['key']).replace(/^Bearer /, ''))).toBe(true);
  });
});
