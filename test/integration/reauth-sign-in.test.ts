import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeygateEvent } from '../../src/events/catalogue.ts';
import { codeIn, completeConnect } from '../support/browser.ts';
import { CookieBrowser, type Visit } from '../support/cookie-browser.ts';
import { providerIntegration } from '../support/connect.ts';
import type { TestKeygate } from '../support/keygate.ts';
import { startOAuthProvider, type OAuthProvider } from '../support/oauth-provider.ts';
import { registerLinkSignIn, startOidcIssuer, type OidcIssuer } from '../support/oidc-issuer.ts';
import { freePort } from '../support/ports.ts';
import { startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import { uniqueTenant } from '../support/store.ts';
import { startUpstream, type FakeUpstream } from '../support/upstream.ts';
import { credentialRef } from '../../src/credentials/ref.ts';

const OIDC_SECRET = 'oidc-client-secret-canary-7Kq2xZ0pWm4R';
const CALLBACK = '/connect/oidc/callback';

/**
 * reauth.identity.oidc: a connect link made for a user is used only by that user, signed in
 * at the issuer (a real OpenID provider, oidc-provider) in the browser that opened the link.
 * Two Keygates share the Vault; `publicUrl` names the first (the "load balancer").
 * The browser is fetch with a cookie jar (test/support/cookie-browser.ts): every step and
 * cookie is visible to the assertions; the Chromium test beside this file shows a real
 * browser keeps those cookies across the sites.
 */
describe('connect links bound to the user by an OpenID sign-in', () => {
  let issuer: OidcIssuer;
  let provider: OAuthProvider;
  let upstream: FakeUpstream;
  let a: TestKeygate & ProxyAdmin;
  let b: TestKeygate & ProxyAdmin;
  let key: string;
  const browsers: CookieBrowser[] = [];
  const answers: string[] = [];
  const events: KeygateEvent[] = [];
  const users: string[] = [];

  beforeAll(async () => {
    issuer = await startOidcIssuer();
    provider = await startOAuthProvider();
    upstream = await startUpstream();
    const signIn = await registerLinkSignIn(issuer, OIDC_SECRET);
    const yaml = (server: string) => `${server}
${signIn.reauth}
integrations:
${providerIntegration('remote', provider, {}, upstream.origin)}`;
    a = await startProxyKeygate(yaml(signIn.server));
    b = await startProxyKeygate(yaml(''));
    for (const keygate of [a, b]) keygate.events.subscribe((event) => events.push(event));
    ({ key } = await a.createKey({ tenants: ['*'] }));
  });

  afterAll(async () => {
    const everything = [
      // Keygate's pages and redirects (the issuer's own redirect carries its code, as it must).
      ...browsers.flatMap((browser) => browser.seen.filter(fromKeygate).map(pageText)),
      ...answers,
      ...a.lines,
      ...b.lines,
      JSON.stringify(events),
    ].join('\n');
    const secrets = [
      OIDC_SECRET,
      ...issuer.issued(),
      ...provider.issuedTokens(),
      provider.clientSecret,
      key.split('.')[1] as string,
    ];
    expect(issuer.issued().length).toBeGreaterThan(4);
    expect(secrets.filter((secret) => everything.includes(secret))).toEqual([]);
    // The users' names stay with the issuer and the application: Keygate keeps their hashes.
    const kept = [...a.lines, ...b.lines, JSON.stringify(events)].join('\n');
    for (const user of users) expect(kept).not.toContain(user);
    await a?.close();
    await b?.close();
    await upstream?.stop();
    await provider?.stop();
    await issuer?.stop();
  });

  const newBrowser = () => {
    const browser = new CookieBrowser();
    browsers.push(browser);
    return browser;
  };
  const user = (name: string) => {
    const unique = `${name}-${Math.random().toString(36).slice(2, 8)}`;
    users.push(unique);
    return unique;
  };
  const pageText = (visit: Visit) => `${visit.text}\n${visit.location ?? ''}`;
  const fromKeygate = (visit: Visit) => visit.url.startsWith(a.url) || visit.url.startsWith(b.url);

  /** A proxied call that meets no credential: the problem answer with its connect link. */
  async function reauthProblem(tenant: string, headers: Record<string, string>) {
    const res = await fetch(`${a.url}/proxy/${tenant}/remote/items`, {
      headers: { authorization: `Bearer ${key}`, ...headers },
    });
    const text = await res.text();
    answers.push(text);
    expect([res.status, res.headers.get('x-keygate-error')]).toEqual([401, 'reauth_required']);
    return JSON.parse(text) as Record<string, string>;
  }

  /** The page's button: a same-origin form POST, as a browser sends it. */
  async function pressSignIn(
    browser: CookieBrowser,
    connectUrl: string,
    headers: Record<string, string> = {},
  ) {
    const page = await browser.visit(connectUrl);
    expect(page.status).toBe(200);
    const action = /<form method="post" action="([^"]+)">/.exec(page.text)?.[1] as string;
    expect(action).toMatch(/\/sign-in$/);
    const token = /name="form_token" value="([^"]+)"/.exec(page.text)?.[1] as string;
    expect(token).toBeTruthy();
    return browser.visit(new URL(action, connectUrl).href, {
      method: 'POST',
      body: new URLSearchParams({ form_token: token }).toString(),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'sec-fetch-site': 'same-origin',
        origin: new URL(connectUrl).origin,
        ...headers,
      },
    });
  }

  /** Opens the link, signs in at the issuer as `who`, and answers the URL the issuer sends the browser back to. */
  async function signInUpToCallback(browser: CookieBrowser, connectUrl: string, who: string) {
    const started = await pressSignIn(browser, connectUrl);
    expect(started.status).toBe(303);
    expect(started.location?.startsWith(`${issuer.url}/auth?`)).toBe(true);
    const toCallback = (next: URL) => next.pathname === CALLBACK;
    let back = await browser.follow(started.location as string, toCallback);
    // The issuer asks who signs in, unless this browser has a session there already (then it is that user).
    if (new URL(back.url).pathname.startsWith('/interaction/')) {
      expect(back.status).toBe(200);
      const submitted = await browser.visit(back.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ login: who }).toString(),
      });
      back = await browser.follow(submitted.location as string, toCallback);
    }
    const callback = new URL(back.location as string);
    expect(callback.pathname).toBe(CALLBACK);
    expect(callback.searchParams.get('code')).toBeTruthy();
    return { started, callbackUrl: callback.href };
  }

  /** From Keygate's 303 to the provider: consent there, then Keygate's OAuth callback. */
  async function throughProvider(browser: CookieBrowser, toProvider: Visit) {
    expect(toProvider.status).toBe(303);
    expect(toProvider.location?.startsWith(`${provider.url}/authorize?`)).toBe(true);
    const consent = await browser.visit(toProvider.location as string);
    expect(consent.status).toBe(302);
    return browser.visit(consent.location as string, { headers: { accept: 'text/html' } });
  }

  it('the user the link was made for signs in and connects; the credential is stored under the link’s account', async () => {
    const tenant = uniqueTenant('signin');
    const alice = user('alice');
    const problem = await reauthProblem(tenant, { 'keygate-user': alice, 'keygate-account': 'work' });
    expect(problem).not.toHaveProperty('confirmation_code');
    expect(problem['detail']).not.toMatch(/code/);
    expect(problem['account']).toBe('work');
    const connectUrl = problem['connect_url'] as string;
    expect(connectUrl).not.toContain(alice);

    const browser = newBrowser();
    const page = await browser.visit(connectUrl);
    expect(page.text).toContain(new URL(issuer.url).origin);
    expect(page.text).not.toMatch(/name="code"/);
    // No code is accepted for a link bound to a user's sign-in.
    const post = await browser.visit(connectUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'code=ABCD-EFGH',
    });
    expect(post.status).toBe(404);

    const { started, callbackUrl } = await signInUpToCallback(browser, connectUrl, alice);
    const [signInCookie] = CookieBrowser.setCookies(started);
    expect(signInCookie).toMatch(/^keygate-signin-[A-Za-z0-9_-]{16}=[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}; /);
    expect(signInCookie).toContain(`Path=${CALLBACK}`);
    expect(signInCookie).toContain('HttpOnly');
    expect(signInCookie).toContain('SameSite=Lax');
    // What the sign-in keeps in Vault (any replica finishes it): digests and ciphertext only.
    const id = connectUrl.split('/').pop() as string;
    const record = (await a.kv.read<Record<string, string>>(`reauth-signin/${id}`))?.data ?? {};
    const state = new URL(started.location as string).searchParams.get('state') as string;
    expect(record['secrets']).toMatch(/^vault:v\d+:/);
    expect(JSON.stringify(record)).not.toContain(state);
    expect(JSON.stringify(record)).not.toContain((signInCookie as string).split(/[=.;]/)[2]);

    const toProvider = await browser.visit(callbackUrl);
    expect(
      CookieBrowser.setCookies(toProvider).some((c) => /^keygate-signin-\S+=; .*Max-Age=0/.test(c)),
    ).toBe(true);
    expect(browser.cookieNames('127.0.0.1').filter((n) => n.startsWith('keygate-signin-'))).toEqual([]);
    const connected = await throughProvider(browser, toProvider);
    expect(connected.status).toBe(200);
    expect((await a.store.read(credentialRef(tenant, 'remote', 'work'))).status).toBe('active');
    expect(await a.store.has(credentialRef(tenant, 'remote'))).toBe(false);
    expect(browser.cookieNames('127.0.0.1').filter((n) => n.startsWith('keygate-'))).toEqual([]);
    expect(events.some((e) => e.type === 'connected' && e.data['tenant'] === tenant)).toBe(true);

    // Spent: the link, and the sign-in's callback.
    expect((await browser.visit(connectUrl)).status).toBe(410);
    const res = await fetch(`${a.url}/proxy/${tenant}/remote/items`, {
      headers: { authorization: `Bearer ${key}`, 'keygate-user': alice, 'keygate-account': 'work' },
    });
    expect(res.status).toBe(200);
    await res.text();
  });

  it('another user is refused with 403 and spends nothing; the right user then connects', async () => {
    const tenant = uniqueTenant('signin');
    const alice = user('alice');
    const bob = user('bob');
    const connectUrl = (await reauthProblem(tenant, { 'keygate-user': alice }))['connect_url'] as string;

    const bobs = newBrowser();
    const { callbackUrl } = await signInUpToCallback(bobs, connectUrl, bob);
    const tokenRequests = provider.counts.requests;
    const refused = await bobs.visit(callbackUrl);
    expect([refused.status, refused.headers.get('x-keygate-error')]).toEqual([
      403,
      'connect_identity_invalid',
    ]);
    expect(refused.text).toContain(`href="${connectUrl}"`);
    expect(provider.counts.requests).toBe(tokenRequests);
    expect(await a.store.has(credentialRef(tenant, 'remote'))).toBe(false);
    expect(a.lines.some((l) => l.includes('connect-sign-in-refused') && l.includes('another user'))).toBe(
      true,
    );

    // Still the same link for Alice.
    const again = await reauthProblem(tenant, { 'keygate-user': alice });
    expect(again['connect_url']).toBe(connectUrl);
    const alices = newBrowser();
    const signedIn = await signInUpToCallback(alices, connectUrl, alice);
    const connected = await throughProvider(alices, await alices.visit(signedIn.callbackUrl));
    expect(connected.status).toBe(200);
    expect((await a.store.read(credentialRef(tenant, 'remote'))).status).toBe('active');
  });

  it('a callback is single use and only for the browser that started the sign-in', async () => {
    const tenant = uniqueTenant('signin');
    const alice = user('alice');
    const connectUrl = (await reauthProblem(tenant, { 'keygate-user': alice }))['connect_url'] as string;
    const browser = newBrowser();
    const { started, callbackUrl } = await signInUpToCallback(browser, connectUrl, alice);

    // Someone else's browser with the same callback URL (a login CSRF): refused, and it
    // leaves the sign-in to the browser that started it.
    const other = newBrowser();
    const foreign = await other.visit(callbackUrl);
    expect([foreign.status, foreign.headers.get('x-keygate-error')]).toEqual([400, 'connect_signin_invalid']);

    // A cookie made up for it (tossed from a sibling host, say): right name and link, not the
    // browser's secret.
    const [name, value] = ((CookieBrowser.setCookies(started)[0] as string).split(';')[0] as string).split(
      '=',
    );
    const linkId = (value as string).split('.')[0] as string;
    const forged = await fetch(callbackUrl, {
      headers: { cookie: `${name}=${linkId}.${'A'.repeat(43)}` },
      redirect: 'manual',
    });
    answers.push(await forged.text());
    expect([forged.status, forged.headers.get('x-keygate-error')]).toEqual([400, 'connect_signin_invalid']);

    const toProvider = await browser.visit(callbackUrl);
    expect(toProvider.status).toBe(303);

    // Replayed with the original cookie (a copy kept by an attacker): the sign-in is gone.
    const cookie = (CookieBrowser.setCookies(started)[0] as string).split(';')[0] as string;
    const replay = await fetch(callbackUrl, { headers: { cookie }, redirect: 'manual' });
    const replayText = await replay.text();
    answers.push(replayText);
    expect([replay.status, replay.headers.get('x-keygate-error')]).toEqual([400, 'connect_signin_invalid']);
    expect((await throughProvider(browser, toProvider)).status).toBe(200);
  });

  it('the provider’s URL forwarded to another browser cannot bring that browser’s account into the link', async () => {
    const tenant = uniqueTenant('signin');
    const mallory = user('mallory');
    const connectUrl = (await reauthProblem(tenant, { 'keygate-user': mallory }))['connect_url'] as string;
    const attacker = newBrowser();
    const { callbackUrl } = await signInUpToCallback(attacker, connectUrl, mallory);
    const toProvider = await attacker.visit(callbackUrl);
    expect(toProvider.status).toBe(303);

    // The victim consents at the provider through the forwarded URL; back at Keygate without
    // the attacker's cookie, nothing is stored.
    const victim = newBrowser();
    const refused = await throughProvider(victim, toProvider);
    expect([refused.status, refused.headers.get('x-keygate-error')]).toEqual([400, 'oauth_state_invalid']);
    expect(await a.store.has(credentialRef(tenant, 'remote'))).toBe(false);
    // The flow is still the attacker's own browser's to finish (with the attacker's account).
    expect((await throughProvider(attacker, toProvider)).status).toBe(200);
    expect(await a.store.has(credentialRef(tenant, 'remote'))).toBe(true);
  });

  it('a sign-in started on one Keygate is finished on another on the same Vault', async () => {
    const tenant = uniqueTenant('signin');
    const alice = user('alice');
    const connectUrl = (await reauthProblem(tenant, { 'keygate-user': alice }))['connect_url'] as string;
    expect(connectUrl.startsWith(a.url)).toBe(true);
    const browser = newBrowser();
    const { callbackUrl } = await signInUpToCallback(browser, connectUrl, alice);
    // The load balancer sends the way back to the other replica.
    const onB = callbackUrl.replace(a.url, b.url);
    expect(onB).not.toBe(callbackUrl);
    const toProvider = await browser.visit(onB);
    expect(toProvider.status).toBe(303);
    const connected = await throughProvider(browser, toProvider);
    expect(connected.url.startsWith(b.url)).toBe(true);
    expect(connected.status).toBe(200);
    expect((await a.store.read(credentialRef(tenant, 'remote'))).status).toBe('active');
    expect(b.lines.some((l) => l.includes('connect-signed-in') && l.includes(tenant))).toBe(true);
  });

  it('a code from another sign-in is refused (PKCE), and spends nothing', async () => {
    const tenant = uniqueTenant('signin');
    const alice = user('alice');
    const first = (await reauthProblem(tenant, { 'keygate-user': alice }))['connect_url'] as string;
    const second = (await reauthProblem(tenant, { 'keygate-user': alice, 'keygate-account': 'other' }))[
      'connect_url'
    ] as string;
    const browser = newBrowser();
    const one = await signInUpToCallback(browser, first, alice);
    const two = await signInUpToCallback(browser, second, alice);
    // The first sign-in's state with the second's code: the verifier is the first's.
    const injected = new URL(one.callbackUrl);
    injected.searchParams.set('code', new URL(two.callbackUrl).searchParams.get('code') as string);
    const refused = await browser.visit(injected.href);
    expect([refused.status, refused.headers.get('x-keygate-error')]).toEqual([
      403,
      'connect_identity_invalid',
    ]);
    expect(a.lines.some((l) => l.includes('connect-sign-in-refused') && l.includes('invalid_grant'))).toBe(
      true,
    );
    expect((await browser.visit(first)).status).toBe(200);
    expect(await a.store.has(credentialRef(tenant, 'remote'))).toBe(false);
  });

  it('an issuer that cannot be reached is a 502 and leaves the link as it was', async () => {
    const closed = await freePort();
    const lonely = await startProxyKeygate(`
reauth: { identity: { oidc: { issuer: "http://127.0.0.1:${closed}", clientId: keygate-links } } }
integrations:
  remote: { baseUrl: "${upstream.origin}", auth: { type: oauth2, authorizationUrl: "${provider.url}/authorize", tokenUrl: "${provider.tokenUrl}", clientId: c } }
`);
    try {
      const tenant = uniqueTenant('signin');
      const res = await fetch(`${lonely.url}/proxy/${tenant}/remote/items`, {
        headers: { authorization: `Bearer ${key}`, 'keygate-user': user('alice') },
      });
      const connectUrl = ((await res.json()) as Record<string, string>)['connect_url'] as string;
      const started = await pressSignIn(newBrowser(), connectUrl);
      expect([started.status, started.headers.get('x-keygate-error')]).toEqual([
        502,
        'identity_provider_unavailable',
      ]);
      expect(started.headers.get('set-cookie')).toBeNull();
      const id = connectUrl.split('/').pop() as string;
      expect(await lonely.kv.read(`reauth-signin/${id}`)).toBeUndefined();
      expect((await fetch(connectUrl)).status).toBe(200);
    } finally {
      await lonely.close();
    }
  });

  it('a page of another site cannot start a sign-in', async () => {
    const tenant = uniqueTenant('signin');
    const connectUrl = (await reauthProblem(tenant, { 'keygate-user': user('alice') }))[
      'connect_url'
    ] as string;
    const before = issuer.counts.authorizations;
    for (const headers of [
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { 'sec-fetch-site': '', origin: 'http://attacker.example' },
    ]) {
      const browser = newBrowser();
      const sent = Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== ''));
      const res = await fetch(`${connectUrl}/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...sent },
        body: '',
        redirect: 'manual',
      });
      answers.push(await res.text());
      expect([res.status, res.headers.get('x-keygate-error'), res.headers.get('set-cookie')]).toEqual([
        403,
        'connect_cross_site',
        null,
      ]);
      expect(browser.seen).toEqual([]);
    }
    expect(issuer.counts.authorizations).toBe(before);
    expect((await fetch(connectUrl)).status).toBe(200);
  });

  it('a link made for a caller without a user keeps the confirmation code', async () => {
    const tenant = uniqueTenant('signin');
    const problem = await reauthProblem(tenant, {});
    const code = problem['confirmation_code'] as string;
    expect(codeIn(problem['detail'] as string)).toBe(code);
    const connectUrl = problem['connect_url'] as string;
    const signIn = await fetch(`${connectUrl}/sign-in`, { method: 'POST', redirect: 'manual' });
    expect(signIn.status).toBe(404);
    await signIn.text();
    const seen = await completeConnect(connectUrl, code);
    answers.push(...seen.map((page) => page.text));
    expect((await a.store.read(credentialRef(tenant, 'remote'))).status).toBe('active');
  });
});
