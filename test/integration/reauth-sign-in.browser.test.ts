import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.ts';
import { providerIntegration } from '../support/connect.ts';
import type { TestKeygate } from '../support/keygate.ts';
import { startOAuthProvider, type OAuthProvider } from '../support/oauth-provider.ts';
import { registerLinkSignIn, startOidcIssuer, type OidcIssuer } from '../support/oidc-issuer.ts';
import { startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import { uniqueTenant } from '../support/store.ts';
import { startUpstream, type FakeUpstream } from '../support/upstream.ts';
import { credentialRef } from '../../src/credentials/ref.ts';

const OIDC_SECRET = 'oidc-browser-secret-canary-Zr81mQ0v';

/**
 * The OpenID sign-in of a connect link in Chromium: what the fetch-driven test
 * (reauth-sign-in.test.ts) cannot show is that a real browser keeps Keygate's binding cookies
 * (HttpOnly, SameSite=Lax, path-scoped) across the navigations from the issuer and the
 * provider, which are other sites (`localhost` vs `127.0.0.1`), that Keygate's own form passes
 * the cross-site check, and that a form on another site does not.
 */
describe('connect-link sign-in in Chromium', () => {
  let issuer: OidcIssuer;
  let provider: OAuthProvider;
  let upstream: FakeUpstream;
  let keygate: TestKeygate & ProxyAdmin;
  let browser: Browser;
  let elsewhere: Server;
  let key: string;
  const contexts: BrowserContext[] = [];
  const pages: string[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
    issuer = await startOidcIssuer({ hostname: 'localhost' });
    provider = await startOAuthProvider();
    upstream = await startUpstream();
    const signIn = await registerLinkSignIn(issuer, OIDC_SECRET);
    keygate = await startProxyKeygate(`${signIn.server}
${signIn.reauth}
integrations:
${providerIntegration('remote', provider, {}, upstream.origin)}`);
    ({ key } = await keygate.createKey({ tenants: ['*'] }));
    // A page on another site whose form posts to a connect link's sign-in.
    elsewhere = createServer((req, res) => {
      const target = new URL(req.url ?? '/', 'http://x').searchParams.get('target') ?? '';
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<form method="post" action="${target}"><button type="submit">Win a prize</button></form>`);
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    const everything = [...pages, ...keygate.lines].join('\n');
    const secrets = [OIDC_SECRET, ...issuer.issued(), ...provider.issuedTokens(), provider.clientSecret];
    expect(secrets.filter((secret) => everything.includes(secret))).toEqual([]);
    for (const context of contexts) await context.close();
    await browser?.close();
    await keygate?.close();
    await upstream?.stop();
    await provider?.stop();
    await issuer?.stop();
    elsewhere?.closeAllConnections();
    await new Promise((resolve) => elsewhere?.close(resolve));
  });

  async function linkFor(tenant: string, user: string): Promise<string> {
    const res = await fetch(`${keygate.url}/proxy/${tenant}/remote/items`, {
      headers: { authorization: `Bearer ${key}`, 'keygate-user': user },
    });
    expect(res.status).toBe(401);
    return ((await res.json()) as { connect_url: string }).connect_url;
  }

  /** A fresh browser profile opens the link, presses the button and signs in at the issuer as `user`. */
  async function signInAs(connectUrl: string, user: string) {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(connectUrl);
    pages.push(await page.content());
    await page.getByRole('button', { name: /Sign in and continue/ }).click();
    await page.waitForURL((url) => url.hostname === 'localhost' && url.pathname.startsWith('/interaction/'));
    await page.fill('input[name=login]', user);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForLoadState('load');
    await page.waitForURL((url) => url.hostname === '127.0.0.1');
    pages.push(await page.content());
    return { context, page };
  }

  it('the right user ends on the connected page with the credential stored; the cookies are gone', async () => {
    const tenant = uniqueTenant('chromium');
    const connectUrl = await linkFor(tenant, 'alice@example.com');
    const { context, page } = await signInAs(connectUrl, 'alice@example.com');
    await page.waitForURL((url) => url.pathname === '/oauth/callback');
    expect(await page.textContent('h1')).toBe('Connected remote');
    expect((await keygate.store.read(credentialRef(tenant, 'remote'))).status).toBe('active');
    const cookies = await context.cookies(keygate.url);
    expect(cookies.filter((c) => c.name.startsWith('keygate-'))).toEqual([]);
  });

  it('another user sees the refusal, and the link stays for the right one', async () => {
    const tenant = uniqueTenant('chromium');
    const connectUrl = await linkFor(tenant, 'alice@example.com');
    const { page } = await signInAs(connectUrl, 'bob@example.com');
    expect(await page.textContent('h1')).toBe('Sign-in did not go through');
    expect(new URL(page.url()).pathname).toBe('/connect/oidc/callback');
    expect(await keygate.store.has(credentialRef(tenant, 'remote'))).toBe(false);
    const { page: alices } = await signInAs(connectUrl, 'alice@example.com');
    await alices.waitForURL((url) => url.pathname === '/oauth/callback');
    expect((await keygate.store.read(credentialRef(tenant, 'remote'))).status).toBe('active');
  });

  it('a form on another site cannot start the sign-in', async () => {
    const tenant = uniqueTenant('chromium');
    const connectUrl = await linkFor(tenant, 'alice@example.com');
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    const { port } = elsewhere.address() as AddressInfo;
    const authorizations = issuer.counts.authorizations;
    await page.goto(`http://localhost:${port}/?target=${encodeURIComponent(`${connectUrl}/sign-in`)}`);
    const [answer] = await Promise.all([
      page.waitForResponse((res) => res.url().endsWith('/sign-in')),
      page.getByRole('button', { name: 'Win a prize' }).click(),
    ]);
    expect([answer.status(), answer.headers()['x-keygate-error']]).toEqual([403, 'connect_cross_site']);
    expect(issuer.counts.authorizations).toBe(authorizations);
    expect((await fetch(connectUrl)).status).toBe(200);
  });
});
