import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { KeygateEvent } from '../../src/events/catalogue.ts';
import { consent, providerIntegration, startConnect } from '../support/connect.ts';
import { jsonFetch } from '../support/http.ts';
import { startTestKeygate, type TestKeygate } from '../support/keygate.ts';
import { startOAuthProvider, type OAuthProvider } from '../support/oauth-provider.ts';
import { uniqueTenant } from '../support/store.ts';
import { vaultAdmin } from '../support/vault-admin.ts';
import { credentialRef } from '../../src/credentials/ref.ts';

const vault = inject('vault');
const ADMIN = 'admin-token-return-to-0123456789';
const APP = 'https://app.example.com/settings/integrations';
const RESOURCE = 'https://mcp.example.com/mcp';
// What a provider could put in its free text: must never reach a redirect, page, event or log.
const DESCRIPTION_CANARY = 'user jane@example.com said no <script>alert(1)</script> canary-Zq81';

// Issue 9, "connect that ends in the app": optional body, returnTo, answers after the
// callback, RFC 8707 resource and RFC 9207 iss, against the real OpenBao and provider double.
describe('connect flow that ends in the app', () => {
  let provider: OAuthProvider;
  let keygate: TestKeygate;
  const events: KeygateEvent[] = [];
  const answers: string[] = [];
  const admin = vaultAdmin(vault);

  const start = async (tenant: string, integration: string, body?: unknown) => {
    const started = await startConnect(keygate.url, ADMIN, tenant, integration, body);
    answers.push(JSON.stringify(started));
    return started;
  };
  const callback = async (url: string, accept?: string) => {
    const res = await fetch(url, { redirect: 'manual', headers: accept ? { accept } : {} });
    const text = await res.text();
    answers.push(JSON.stringify([...res.headers]), text);
    return { res, text, location: res.headers.get('location') };
  };
  const about = (tenant: string) => events.filter((e) => 'tenant' in e.data && e.data.tenant === tenant);
  const pendingStates = async () => keygate.kv.list('oauth-state/');

  beforeAll(async () => {
    provider = await startOAuthProvider({ authMethod: 'client_secret_post' });
    keygate = await startTestKeygate(
      `admin: { token: ${ADMIN} }
vault: { prefix: kg-return }
oauth: { allowedReturnUrls: ["${APP}", "http://127.0.0.1:9/done"] }
integrations:
${providerIntegration('acme', provider, { scopes: ['read'] })}${providerIntegration('mcp', provider, { resource: RESOURCE })}${providerIntegration('strict', provider, { issParameterSupported: true })}${providerIntegration('pathissuer', provider, { issuer: `${provider.url}/tenant-a` })}
  anthropic: { template: anthropic }
`,
      { VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token },
    );
    keygate.events.subscribe((event) => events.push(event));
  });
  afterAll(async () => {
    const everything = [...answers, ...keygate.lines, JSON.stringify(events)].join('\n');
    for (const secret of [...provider.issuedTokens(), provider.clientSecret, 'canary-Zq81']) {
      expect(everything).not.toContain(secret);
    }
    await keygate.close();
    await provider.stop();
  });

  it('starts with no body, an empty JSON body or {} (all defaults)', async () => {
    const tenant = uniqueTenant('empty-body');
    const url = `${keygate.url}/v1/tenants/${tenant}/connect/acme`;
    const auth = { authorization: `Bearer ${ADMIN}` };
    const bare = await fetch(url, { method: 'POST', headers: auth });
    const emptyJson = await fetch(url, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
    });
    const braces = await start(tenant, 'acme', {});
    for (const res of [bare, emptyJson]) {
      expect(res.status).toBe(201);
      const body = (await res.json()) as { authorizationUrl: string };
      expect(new URL(body.authorizationUrl).searchParams.get('scope')).toBe('read');
    }
    expect(braces.status).toBe(201);
    const notJson = await fetch(url, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: '{"returnTo":',
    });
    expect([notJson.status, notJson.headers.get('x-keygate-error')]).toEqual([400, 'bad_request']);
    const unknownField = await start(tenant, 'acme', { redirect: APP });
    expect([unknownField.status, unknownField.code]).toEqual([400, 'validation_failed']);
  });

  it('redirects (303) to returnTo with connected= and account= after consent', async () => {
    const tenant = uniqueTenant('return-ok');
    const started = await start(tenant, 'acme', { returnTo: `${APP}/acme?tab=2`, account: 'work' });
    expect(started.status).toBe(201);
    const done = await callback(await consent(started.body.authorizationUrl));
    expect(done.res.status).toBe(303);
    const location = new URL(done.location as string);
    expect(location.origin + location.pathname).toBe(`${APP}/acme`);
    expect(Object.fromEntries(location.searchParams)).toEqual({
      tab: '2',
      connected: 'acme',
      account: 'work',
    });
    expect((await keygate.store.metadata(credentialRef(tenant, 'acme', 'work'))).status).toBe('active');
    expect(about(tenant).map((e) => e.type)).toEqual(
      expect.arrayContaining(['credential-stored', 'connected']),
    );
  });

  it('refuses a returnTo outside oauth.allowedReturnUrls with return_url_not_allowed, writing nothing', async () => {
    const tenant = uniqueTenant('return-bad');
    const before = await pendingStates();
    for (const returnTo of [
      'https://app.example.com/settings/integrationsx',
      'https://app.example.com.evil.test/settings/integrations',
      'https://evil.test@app.example.com/settings/integrations',
      'https:\\\\evil.test/settings/integrations',
      'javascript:alert(1)',
      '/settings/integrations',
      'http://127.0.0.1:9/done/../admin',
    ]) {
      const refused = await start(tenant, 'acme', { returnTo });
      expect([returnTo, refused.status, refused.code]).toEqual([returnTo, 400, 'return_url_not_allowed']);
    }
    const badAccount = await start(tenant, 'acme', { account: '../default', returnTo: APP });
    expect([badAccount.status, badAccount.code]).toEqual([400, 'invalid_name']);
    // Nothing half-written: no pending flow, not even the tenant's Transit key.
    expect(await pendingStates()).toEqual(before);
    expect((await admin('GET', `transit/keys/kg-return-${tenant}`)).status).toBe(404);
    expect(await keygate.store.has(credentialRef(tenant, 'acme'))).toBe(false);
  });

  it('denied consent: to returnTo with error=<code> (never the provider text), connect-failed, nothing stored', async () => {
    const tenant = uniqueTenant('return-denied');
    const started = await start(tenant, 'acme', { returnTo: APP });
    provider.denyNextAuthorization(DESCRIPTION_CANARY);
    const back = await consent(started.body.authorizationUrl);
    expect(back).toContain('canary-Zq81'); // the provider did send its text ...
    const done = await callback(back);
    expect(done.res.status).toBe(303);
    expect(done.res.headers.get('x-keygate-error')).toBe('oauth_denied');
    const location = new URL(done.location as string);
    expect(Object.fromEntries(location.searchParams)).toEqual({
      error: 'oauth_denied',
      integration: 'acme',
      account: 'default',
    });
    expect(await keygate.store.has(credentialRef(tenant, 'acme'))).toBe(false);
    expect(await keygate.kv.read(`oauth-state/${started.body.state}`)).toBeUndefined();
    expect(about(tenant).map((e) => [e.type, e.data])).toEqual([
      [
        'connect-failed',
        expect.objectContaining({ tenant, integration: 'acme', account: 'default', error: 'oauth_denied' }),
      ],
    ]);
  });

  it('without returnTo: an escaped HTML page for a browser, JSON for accept: application/json', async () => {
    const tenant = uniqueTenant('page');
    const browser = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
    const first = await start(tenant, 'acme');
    const page = await callback(await consent(first.body.authorizationUrl), browser);
    expect([page.res.status, page.res.headers.get('content-type')]).toEqual([
      200,
      'text/html; charset=utf-8',
    ]);
    expect(page.res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.text).toContain('Connected acme');
    expect(page.text).toContain(tenant);
    const stored = await keygate.store.read(credentialRef(tenant, 'acme'));
    expect(page.text).not.toContain(stored.secret.accessToken);

    provider.denyNextAuthorization(DESCRIPTION_CANARY);
    const second = await start(tenant, 'acme', { account: 'home' });
    const failedPage = await callback(await consent(second.body.authorizationUrl), browser);
    expect([failedPage.res.status, failedPage.res.headers.get('x-keygate-error')]).toEqual([
      400,
      'oauth_denied',
    ]);
    expect(failedPage.text).toContain('<code>oauth_denied</code>');
    expect(failedPage.text).not.toContain('<script>');

    const third = await start(tenant, 'acme', { account: 'api' });
    const asJson = await callback(await consent(third.body.authorizationUrl), 'application/json');
    expect(asJson.res.status).toBe(200);
    expect(JSON.parse(asJson.text)).toMatchObject({
      connected: true,
      tenant,
      account: 'api',
      status: 'active',
    });
    const unknown = await callback(`${keygate.url}/oauth/callback?state=${'x'.repeat(43)}&code=c`, browser);
    expect([unknown.res.status, unknown.res.headers.get('x-keygate-error')]).toEqual([
      400,
      'oauth_state_invalid',
    ]);
    expect(unknown.text).toContain('<!doctype html>');
  });

  it('sends the RFC 8707 resource in the authorization and every token request where configured', async () => {
    const tenant = uniqueTenant('resource');
    const plain = await start(tenant, 'acme');
    expect(new URL(plain.body.authorizationUrl).searchParams.has('resource')).toBe(false);
    const started = await start(tenant, 'mcp');
    expect(new URL(started.body.authorizationUrl).searchParams.get('resource')).toBe(RESOURCE);
    const tokenCalls = provider.resources.token.length;
    const done = await callback(await consent(started.body.authorizationUrl), 'application/json');
    expect(done.res.status).toBe(200);
    const refresh = await jsonFetch(
      `${keygate.url}/v1/tenants/${tenant}/credentials/mcp/refresh`,
      'POST',
      undefined,
      ADMIN,
    );
    expect(refresh.status).toBe(200);
    // The code exchange, then the refresh: both name the resource.
    expect(provider.resources.token.slice(tokenCalls)).toEqual([RESOURCE, RESOURCE]);
  });

  it('checks the RFC 9207 iss: a mismatch (or a missing one where required) is refused, nothing stored', async () => {
    const tenant = uniqueTenant('iss');
    const cases: Array<[string, string | null | undefined, string | null]> = [
      ['acme', 'https://evil.test', 'oauth_issuer_mismatch'], // a mix-up: another server's iss
      ['acme', null, null], // no iss, and the integration does not require one: fine
      ['strict', null, 'oauth_issuer_mismatch'], // required and missing
      ['strict', undefined, null], // the provider's own iss
      ['pathissuer', undefined, 'oauth_issuer_mismatch'], // the issuer has a path the provider's iss lacks
      ['pathissuer', `${provider.url}/tenant-a`, null],
    ];
    for (const [index, [integration, iss, expected]] of cases.entries()) {
      const account = `case-${index}`;
      const started = await start(tenant, integration, { account });
      if (iss !== undefined) provider.forgeNextIss(iss);
      const done = await callback(await consent(started.body.authorizationUrl), 'application/json');
      const code = done.res.headers.get('x-keygate-error');
      expect([integration, iss, code]).toEqual([integration, iss, expected]);
      expect([
        integration,
        iss,
        await keygate.store.has(credentialRef(tenant, integration, account)),
      ]).toEqual([integration, iss, expected === null]);
      expect(await keygate.kv.read(`oauth-state/${started.body.state}`)).toBeUndefined();
    }
    const failures = about(tenant).filter((e) => e.type === 'connect-failed');
    expect(failures.map((e) => 'error' in e.data && e.data.error)).toEqual([
      'oauth_issuer_mismatch',
      'oauth_issuer_mismatch',
      'oauth_issuer_mismatch',
    ]);
  });

  it('an expired flow: oauth_state_invalid to returnTo, connect-failed for that flow, the state removed', async () => {
    const tenant = uniqueTenant('expired');
    const started = await start(tenant, 'acme', { returnTo: APP });
    const back = await consent(started.body.authorizationUrl);
    const record = await keygate.kv.read<Record<string, unknown>>(`oauth-state/${started.body.state}`);
    await keygate.kv.write(
      `oauth-state/${started.body.state}`,
      { ...record?.data, expiresAt: new Date(Date.now() - 1000).toISOString() },
      { cas: record?.version as number },
    );
    const done = await callback(back);
    expect(done.res.status).toBe(303);
    expect(new URL(done.location as string).searchParams.get('error')).toBe('oauth_state_invalid');
    expect(await keygate.kv.read(`oauth-state/${started.body.state}`)).toBeUndefined();
    expect(await keygate.store.has(credentialRef(tenant, 'acme'))).toBe(false);
    expect(about(tenant).map((e) => [e.type, 'error' in e.data ? e.data.error : undefined])).toEqual([
      ['connect-failed', 'oauth_state_invalid'],
    ]);
  });
});
