import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SAME_ORIGIN_FORM,
  completeConnect,
  hiddenFields,
  openConnectPage,
  submitCode,
  type ConnectPage,
} from '../support/browser.ts';
import { offeredLink, startConnectStack, type ConnectStack } from '../support/connect.ts';
import { uniqueTenant } from '../support/store.ts';
import { credentialRef } from '../../src/credentials/ref.ts';

/**
 * Regression (issue 24): `POST /connect/{id}` with `Origin: https://evil.test`,
 * `Sec-Fetch-Site: cross-site` and the right code answered 303 to the provider and spent
 * the link. Whoever holds the URL and the code could auto-submit the form from any site,
 * so the person never saw the page that says "continue only if you started this".
 * A post is taken only from the page itself, opened in the same browser: same origin by
 * Origin / Sec-Fetch-Site, and the page's anti-forgery token with the cookie the page set.
 * A refused post spends nothing.
 */
describe('connect-link-cross-site-post', () => {
  let stack: ConnectStack;

  beforeAll(async () => {
    stack = await startConnectStack();
  });
  afterAll(() => stack?.close());

  const offer = (tenant: string) => offeredLink(stack.keygate.url, stack.key, tenant);
  const record = (url: string) =>
    stack.keygate.kv.read<Record<string, unknown>>(`reauth-link/${url.split('/').pop() as string}`);

  async function expectRefused(res: Response) {
    const body = await res.text();
    expect([res.status, res.headers.get('x-keygate-error')], body).toEqual([403, 'connect_cross_site']);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  }

  it('a cross-site post with the right code is refused and spends nothing; the page itself still works', async () => {
    const tenant = uniqueTenant('xsite');
    const { url, code } = await offer(tenant);
    const before = await record(url);
    expect(before?.data).toMatchObject({ used: false, wrongCodes: 0 });

    // The attacker holds the URL and the code, and can load the page itself (server side):
    // it gets a page and a token of its own, but not the victim browser's cookie.
    const attackers: ConnectPage = await openConnectPage(url);
    expect(attackers.status).toBe(200);
    const forged = { fields: attackers.fields, cookie: undefined };

    // The victim's browser, auto-submitting the attacker's form from evil.test.
    await expectRefused(
      await submitCode(url, forged, code, { origin: 'https://evil.test', 'sec-fetch-site': 'cross-site' }),
    );
    // Each signal alone is enough: Origin of another site, or Sec-Fetch-Site without Origin ...
    await expectRefused(await submitCode(url, attackers, code, { origin: 'https://evil.test' }));
    await expectRefused(await submitCode(url, attackers, code, { 'sec-fetch-site': 'cross-site' }));
    // ... a sibling site (same-site but another origin), or the opaque origin with it.
    await expectRefused(await submitCode(url, attackers, code, { 'sec-fetch-site': 'same-site' }));
    await expectRefused(
      await submitCode(url, attackers, code, { origin: 'null', 'sec-fetch-site': 'cross-site' }),
    );
    // Same-origin headers are not enough without the page's token and cookie (a script
    // holding URL and code, or a browser that never opened the page).
    await expectRefused(await submitCode(url, { fields: {}, cookie: undefined }, code, SAME_ORIGIN_FORM));
    await expectRefused(await submitCode(url, forged, code, SAME_ORIGIN_FORM));
    await expectRefused(
      await submitCode(url, { fields: {}, cookie: attackers.cookie }, code, SAME_ORIGIN_FORM),
    );
    // A token from another page load does not match this browser's cookie.
    const victims = await openConnectPage(url);
    await expectRefused(
      await submitCode(url, { fields: attackers.fields, cookie: victims.cookie }, code, SAME_ORIGIN_FORM),
    );

    // Nothing was spent: the record was never written, the page still shows, nothing connected.
    const after = await record(url);
    expect(after?.version).toBe(before?.version);
    expect(after?.data).toMatchObject({ used: false, wrongCodes: 0 });
    expect(await stack.keygate.store.has(credentialRef(tenant, 'remote'))).toBe(false);

    // The page itself, submitted from the browser that opened it, goes on to the stack.provider.
    const pages = await completeConnect(url, code);
    expect(pages.map((p) => p.status)).toEqual([200, 303, 302, 200]);
    expect((await stack.keygate.store.read(credentialRef(tenant, 'remote'))).status).toBe('active');
  });

  it('the page is accepted from its own origin, named by Origin (an older browser) or by neither (a non-browser client that loaded the page)', async () => {
    for (const headers of [{ origin: stack.keygate.url }, { 'sec-fetch-site': 'same-origin' }, {}]) {
      const tenant = uniqueTenant('same');
      const { url, code } = await offer(tenant);
      const page = await openConnectPage(url);
      const res = await submitCode(url, page, code, headers);
      await res.text();
      expect(res.status, JSON.stringify(headers)).toBe(303);
      expect(res.headers.get('location')).toMatch(new RegExp(`^${stack.provider.url}/authorize\\?`));
    }
  });

  it('a wrong code from the page still counts; a refused cross-site post does not', async () => {
    const tenant = uniqueTenant('count');
    const { url, code } = await offer(tenant);
    const page = await openConnectPage(url);
    for (let i = 0; i < 6; i++) {
      await expectRefused(await submitCode(url, page, 'AAAA-AAAA', { origin: 'https://evil.test' }));
    }
    const wrong = await submitCode(url, page, 'AAAA-AAAA', SAME_ORIGIN_FORM);
    expect([wrong.status, wrong.headers.get('x-keygate-error')]).toEqual([400, 'connect_code_invalid']);
    // The page shown again carries a token that works with the same cookie.
    const again = { fields: hiddenFields(await wrong.text()), cookie: page.cookie };
    expect((await record(url))?.data).toMatchObject({ used: false, wrongCodes: 1 });
    const ok = await submitCode(url, again, code, SAME_ORIGIN_FORM);
    await ok.text();
    expect(ok.status).toBe(303);
  });
});
