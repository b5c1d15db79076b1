import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieBrowser } from '../support/cookie-browser.ts';
import { providerIntegration } from '../support/connect.ts';
import type { TestKeygate } from '../support/keygate.ts';
import { startOAuthProvider, type OAuthProvider } from '../support/oauth-provider.ts';
import { registerLinkSignIn, signInAt, startOidcIssuer, type OidcIssuer } from '../support/oidc-issuer.ts';
import { startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import { uniqueTenant } from '../support/store.ts';
import { startUpstream, type FakeUpstream } from '../support/upstream.ts';
import { credentialRef } from '../../src/credentials/ref.ts';

const LINKS_SECRET = 'links-client-secret-canary-Zp81qW3x';
const CALLBACK = '/connect/oidc/callback';
const AGENT_REDIRECT = 'http://127.0.0.1:1/agent-callback';

/**
 * Identity and the link binding together: one OpenID provider issues the caller's access
 * token (for Keygate's resource) and signs the user in at the connect page. A link offered
 * to a token caller is for the caller's account (the token's pinned one) and bound to its
 * `sub`: another user who signs in is refused; the caller's user connects, and the caller's
 * next call goes through.
 */
describe('a token caller’s connect link, bound to its sub by the OpenID sign-in', () => {
  let issuer: OidcIssuer;
  let provider: OAuthProvider;
  let upstream: FakeUpstream;
  let keygate: TestKeygate & ProxyAdmin;
  const tenant = uniqueTenant('tokensignin');

  beforeAll(async () => {
    issuer = await startOidcIssuer({ resourceServer: { scopes: ['keygate:proxy'] } });
    provider = await startOAuthProvider();
    upstream = await startUpstream();
    const signIn = await registerLinkSignIn(issuer, LINKS_SECRET, [
      { client_id: 'agent', redirect_uris: [AGENT_REDIRECT], token_endpoint_auth_method: 'none' },
    ]);
    issuer.extraClaims['tenant'] = tenant;
    keygate = await startProxyKeygate(`
${signIn.server}
${signIn.reauth}
callers:
  issuers:
    - issuer: ${issuer.url}
      tenant: { claim: tenant }
      account: { claim: sub }
integrations:
${providerIntegration('remote', provider, {}, upstream.origin)}`);
  });
  afterAll(async () => {
    await keygate?.close();
    await upstream?.stop();
    await provider?.stop();
    await issuer?.stop();
  });

  /** The agent's own OAuth client: code + PKCE + resource, signed in as `user`. */
  async function accessToken(user: string, resource: string): Promise<string> {
    const verifier = randomBytes(32).toString('base64url');
    const authorize = new URL(`${issuer.url}/auth`);
    for (const [name, value] of Object.entries({
      client_id: 'agent',
      response_type: 'code',
      redirect_uri: AGENT_REDIRECT,
      scope: 'keygate:proxy',
      resource,
      state: 's',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }))
      authorize.searchParams.set(name, value);
    const code = (await signInAt(issuer, authorize, user)).searchParams.get('code') as string;
    const res = await fetch(`${issuer.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: 'agent',
        code,
        redirect_uri: AGENT_REDIRECT,
        code_verifier: verifier,
        resource,
      }),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { access_token: string }).access_token;
  }

  async function signIn(browser: CookieBrowser, connectUrl: string, who: string): Promise<string> {
    const page = await browser.visit(connectUrl);
    const action = /<form method="post" action="([^"]+)">/.exec(page.text)?.[1] as string;
    const token = /name="form_token" value="([^"]+)"/.exec(page.text)?.[1] as string;
    const started = await browser.visit(new URL(action, connectUrl).href, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'sec-fetch-site': 'same-origin',
        origin: new URL(connectUrl).origin,
      },
      body: new URLSearchParams({ form_token: token }).toString(),
    });
    expect(started.status).toBe(303);
    const back = await browser.follow(started.location as string, (next) => next.pathname === CALLBACK);
    const submitted = await browser.visit(back.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ login: who }).toString(),
    });
    const atCallback = await browser.follow(
      submitted.location as string,
      (next) => next.pathname === CALLBACK,
    );
    return atCallback.location as string;
  }

  it('only the caller’s user connects, and for the caller’s account', async () => {
    const token = await accessToken('alice', `${keygate.url}/proxy/${tenant}/remote`);
    const call = () =>
      fetch(`${keygate.url}/proxy/${tenant}/remote/items`, { headers: { authorization: `Bearer ${token}` } });
    const offered = await call();
    expect([offered.status, offered.headers.get('x-keygate-error')]).toEqual([401, 'reauth_required']);
    const problem = (await offered.json()) as Record<string, string>;
    expect(problem['account']).toBe('alice');
    const connectUrl = problem['connect_url'] as string;

    const bobs = new CookieBrowser();
    const refused = await bobs.visit(await signIn(bobs, connectUrl, 'bob'));
    expect([refused.status, refused.headers.get('x-keygate-error')]).toEqual([
      403,
      'connect_identity_invalid',
    ]);
    expect(await keygate.store.has(credentialRef(tenant, 'remote', 'alice'))).toBe(false);

    const alices = new CookieBrowser();
    const toProvider = await alices.visit(await signIn(alices, connectUrl, 'alice'));
    expect(toProvider.status).toBe(303);
    const consent = await alices.visit(toProvider.location as string);
    const connected = await alices.visit(consent.location as string, { headers: { accept: 'text/html' } });
    expect(connected.status).toBe(200);
    expect((await keygate.store.read(credentialRef(tenant, 'remote', 'alice'))).status).toBe('active');
    expect(await keygate.store.has(credentialRef(tenant, 'remote'))).toBe(false);

    const after = await call();
    expect(after.status).toBe(200);
    await after.text();
    expect(upstream.received.at(-1)?.headers.authorization).not.toContain(token);
  });
});
