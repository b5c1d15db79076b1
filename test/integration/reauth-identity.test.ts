import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAssertion } from '../../src/reauth/identity.ts';
import { withCookies } from '../support/browser.ts';
import { providerIntegration } from '../support/connect.ts';
import type { TestKeygate } from '../support/keygate.ts';
import { startOAuthProvider, type OAuthProvider } from '../support/oauth-provider.ts';
import { startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import { uniqueTenant } from '../support/store.ts';
import { startUpstream, type FakeUpstream } from '../support/upstream.ts';
import { credentialRef } from '../../src/credentials/ref.ts';

const SECRET = 'identity-secret-shared-with-the-app-0123456789';

/**
 * reauth.identity: the embedding application's sign-in binds a connect link to the
 * tenant's user. The "application" here knows its signed-in user from a cookie and
 * answers Keygate's redirect with an assertion signed with the shared secret.
 */
describe('re-authorisation links bound to the user by the embedding application', () => {
  let provider: OAuthProvider;
  let upstream: FakeUpstream;
  let app: Server;
  let appUrl: string;
  let keygate: TestKeygate & ProxyAdmin;
  let key: string;
  const memberOf: Record<string, string> = {}; // user -> tenant, as the application knows it
  const shown: string[] = [];

  beforeAll(async () => {
    provider = await startOAuthProvider();
    upstream = await startUpstream();
    app = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://app');
      const user = /(?:^|;\s*)user=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
      const tenant = url.searchParams.get('tenant') ?? '';
      if (!user || memberOf[user] !== tenant) {
        res.writeHead(403).end('not signed in as a user of that tenant');
        return;
      }
      const assertion = signAssertion(SECRET, {
        link: url.searchParams.get('link') ?? '',
        tenant,
        sub: user,
        exp: Math.floor(Date.now() / 1000) + 60,
      });
      res.writeHead(302, { location: `${url.searchParams.get('return_to')}?assertion=${assertion}` }).end();
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}/keygate-identify`;
    keygate = await startProxyKeygate(`
reauth: { identity: { url: ${appUrl}, secret: ${SECRET} } }
integrations:
${providerIntegration('remote', provider, {}, upstream.origin)}`);
    ({ key } = await keygate.createKey({ tenants: ['*'] }));
  });
  afterAll(async () => {
    const everything = [...shown, ...keygate.lines].join('\n');
    for (const secret of [
      ...provider.issuedTokens(),
      provider.clientSecret,
      SECRET,
      key.split('.')[1] as string,
    ]) {
      expect(everything).not.toContain(secret);
    }
    await keygate?.close();
    await upstream?.stop();
    await provider?.stop();
    app?.closeAllConnections();
    await new Promise((resolve) => app?.close(resolve));
  });

  // The browser: the form on the page is a GET to the application, which redirects back to Keygate.
  async function openAs(user: string, connectUrl: string) {
    const page = await fetch(connectUrl);
    const html = await page.text();
    shown.push(html);
    expect(page.status).toBe(200);
    const action = /<form method="get" action="([^"]+)">/.exec(html)?.[1] as string;
    const fields = Object.fromEntries(
      [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]+)">/g)].map((m) => [
        m[1],
        (m[2] as string).replace(/&amp;/g, '&'),
      ]),
    );
    expect(action).toBe(appUrl);
    const atApp = await fetch(`${action}?${new URLSearchParams(fields)}`, {
      redirect: 'manual',
      headers: { cookie: `user=${user}` },
    });
    await atApp.text();
    return atApp;
  }

  it('only the user the call named, signed in at the application, can use the link', async () => {
    const tenant = uniqueTenant('identity');
    memberOf['alice'] = tenant;
    memberOf['bob'] = tenant;
    const res = await fetch(`${keygate.url}/proxy/${tenant}/remote/items`, {
      headers: { authorization: `Bearer ${key}`, 'keygate-user': 'alice' },
    });
    const problem = (await res.json()) as Record<string, string>;
    shown.push(JSON.stringify(problem));
    expect([res.status, problem['code']]).toEqual([401, 'reauth_required']);
    expect(problem).not.toHaveProperty('confirmation_code');
    expect(problem['detail']).not.toMatch(/code/);
    const url = problem['connect_url'] as string;
    expect(url).not.toContain('alice');

    // No code route in this mode.
    const post = await fetch(url, {
      method: 'POST',
      body: 'code=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(post.status).toBe(404);
    await post.text();

    // Bob, another user of the same tenant, is refused; the link stays usable for Alice.
    const asBob = await openAs('bob', url);
    const bobBack = await fetch(asBob.headers.get('location') as string, { redirect: 'manual' });
    expect([bobBack.status, bobBack.headers.get('x-keygate-error')]).toEqual([
      403,
      'connect_identity_invalid',
    ]);
    await bobBack.text();

    // A forged assertion (wrong secret) and one for another tenant are refused too.
    const id = url.split('/').pop() as string;
    const exp = Math.floor(Date.now() / 1000) + 60;
    for (const assertion of [
      signAssertion('not-the-secret-not-the-secret-not-the-secret', { link: id, tenant, sub: 'alice', exp }),
      signAssertion(SECRET, { link: id, tenant: 'other-tenant', sub: 'alice', exp }),
      signAssertion(SECRET, { link: id, tenant, sub: 'alice', exp: exp + 3600 }),
    ]) {
      const back = await fetch(`${url}/identified?assertion=${assertion}`, { redirect: 'manual' });
      expect(back.status).toBe(403);
      await back.text();
    }
    expect(await keygate.store.has(credentialRef(tenant, 'remote'))).toBe(false);

    const asAlice = await openAs('alice', url);
    const aliceBack = await fetch(asAlice.headers.get('location') as string, { redirect: 'manual' });
    expect(aliceBack.status).toBe(303);
    const consent = await fetch(aliceBack.headers.get('location') as string, { redirect: 'manual' });
    expect(consent.status).toBe(302);
    const callback = await fetch(consent.headers.get('location') as string, {
      redirect: 'manual',
      ...withCookies(aliceBack.headers),
    });
    expect(callback.status).toBe(200);
    await callback.text();
    expect((await keygate.store.read(credentialRef(tenant, 'remote'))).status).toBe('active');

    // Spent.
    const again = await fetch(asAlice.headers.get('location') as string, { redirect: 'manual' });
    expect(again.status).toBe(410);
    await again.text();
    const ok = await fetch(`${keygate.url}/proxy/${tenant}/remote/items`, {
      headers: { authorization: `Bearer ${key}`, 'keygate-user': 'alice' },
    });
    expect(ok.status).toBe(200);
    await ok.text();
    expect(upstream.received.at(-1)?.headers).not.toHaveProperty('keygate-user');
  });
});
