import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { consent, providerIntegration } from '../support/connect.ts';
import { startTestKeygate, type TestKeygate } from '../support/keygate.ts';
import { startOAuthProvider, type OAuthProvider } from '../support/oauth-provider.ts';
import { jsonFetch } from '../support/http.ts';
import { uniqueTenant } from '../support/store.ts';
import { credentialRef } from '../../src/credentials/ref.ts';

const vault = inject('vault');
const ADMIN = 'admin-token-connect-0123456789';

describe('connect flow: authorization code with PKCE', () => {
  let provider: OAuthProvider;
  let keygate: TestKeygate;
  const answers: string[] = [];

  async function call(method: string, url: string, body?: unknown, admin = true) {
    const res = await jsonFetch(url, method, body, admin ? ADMIN : null);
    const text = await res.text();
    answers.push(JSON.stringify([...res.headers]), text);
    return {
      status: res.status,
      code: res.headers.get('x-keygate-error'),
      location: res.headers.get('location'),
      body: text.startsWith('{') ? JSON.parse(text) : text,
    };
  }
  const start = (tenant: string, integration = 'acme') =>
    call('POST', `${keygate.url}/v1/tenants/${tenant}/connect/${integration}`, {});

  beforeAll(async () => {
    provider = await startOAuthProvider({ authMethod: 'client_secret_post' });
    keygate = await startTestKeygate(
      `
admin: { token: ${ADMIN} }
vault: { prefix: kg-connect }
integrations:
${providerIntegration('acme', provider, { scopes: ['read', 'write'] })}  anthropic: { template: anthropic }
`,
      { VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token },
    );
  });
  afterAll(async () => {
    const everything = [...answers, ...keygate.lines].join('\n');
    for (const token of [...provider.issuedTokens(), provider.clientSecret])
      expect(everything).not.toContain(token);
    await keygate.close();
    await provider.stop();
  });

  it('connects an account: PKCE S256, single-use state, tokens stored encrypted', async () => {
    const tenant = uniqueTenant('connect');
    const started = await start(tenant);
    expect(started.status).toBe(201);
    const url = new URL(started.body.authorizationUrl);
    expect(url.origin + url.pathname).toBe(`${provider.url}/authorize`);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: provider.clientId,
      redirect_uri: `${keygate.url}/oauth/callback`,
      scope: 'read write',
      state: started.body.state,
      code_challenge_method: 'S256',
    });
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const callback = await consent(started.body.authorizationUrl);
    const done = await call('GET', callback, undefined, false);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ connected: true, tenant, integration: 'acme', status: 'active' });
    expect(Date.parse(done.body.expiresAt)).toBeGreaterThan(Date.now());

    const stored = await keygate.store.read(credentialRef(tenant, 'acme'));
    expect(provider.isValidAccessToken(stored.secret.accessToken as string)).toBe(true);
    expect(stored.secret.refreshToken).toMatch(/^rt-/);
    expect([...keygate.refresh.scheduler.known()].some((ref) => ref.tenant === tenant)).toBe(true);

    // The same callback again (a replay, a double click): the state is spent.
    const replay = await call('GET', callback, undefined, false);
    expect([replay.status, replay.code]).toEqual([400, 'oauth_state_invalid']);
  });

  it('refuses denied consent, a code from another flow, unknown states and non-OAuth integrations', async () => {
    const tenant = uniqueTenant('connect-bad');
    provider.denyNextAuthorization();
    const denied = await call(
      'GET',
      await consent((await start(tenant)).body.authorizationUrl),
      undefined,
      false,
    );
    expect([denied.status, denied.code]).toEqual([400, 'oauth_denied']);

    // Flow A's code presented with flow B's state: B's PKCE verifier does not match A's challenge.
    const a = await start(tenant);
    const b = await start(tenant);
    const codeOfA = new URL(await consent(a.body.authorizationUrl)).searchParams.get('code') as string;
    const mixed = await call(
      'GET',
      `${keygate.url}/oauth/callback?code=${codeOfA}&state=${b.body.state}`,
      undefined,
      false,
    );
    expect([mixed.status, mixed.code]).toEqual([400, 'oauth_denied']);
    expect(await keygate.store.has(credentialRef(tenant, 'acme'))).toBe(false);

    for (const state of ['', 'short', 'x'.repeat(43), '../../keys/abc%2F..']) {
      const res = await call('GET', `${keygate.url}/oauth/callback?code=c&state=${state}`, undefined, false);
      expect([state, res.status, res.code]).toEqual([state, 400, 'oauth_state_invalid']);
    }
    const apiKey = await start(tenant, 'anthropic');
    expect([apiKey.status, apiKey.code]).toEqual([400, 'connect_unsupported']);
    const noAdmin = await call('POST', `${keygate.url}/v1/tenants/${tenant}/connect/acme`, {}, false);
    expect(noAdmin.status).toBe(401);
  });
});
