import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConnectStack, type ConnectStack } from '../support/connect.ts';
import { registerLinkSignIn, startOidcIssuer, type OidcIssuer } from '../support/oidc-issuer.ts';
import { uniqueTenant } from '../support/store.ts';

/**
 * Regression (review finding): `POST /connect/{id}/sign-in` was guarded by the request's
 * `Origin` and `Sec-Fetch-Site` only (forgery.ts `sentFromElsewhere`), and `Origin: null`
 * passed because Keygate's own pages are served with `Referrer-Policy: no-referrer`. A page
 * of another site that sets `<meta name="referrer" content="no-referrer">` posts with
 * `Origin: null` too; in a browser without Fetch Metadata (Safari before 16.4, Firefox
 * before 90) it sends no `Sec-Fetch-Site`, so its auto-submitted form starts the sign-in. The
 * confirmation form has a second check for exactly this (SameSite=Strict nonce cookie + HMAC
 * token); the sign-in form had none, so with a live session at the issuer the user was
 * signed in without a prompt and the link spent without the user seeing Keygate's page.
 * The sign-in form now carries the same token and nonce cookie (links.checkForm).
 */
describe('the sign-in button cannot be pressed by another site’s page', () => {
  let issuer: OidcIssuer;
  let stack: ConnectStack;

  beforeAll(async () => {
    issuer = await startOidcIssuer();
    const signIn = await registerLinkSignIn(issuer, 'links-secret-0123456789');
    stack = await startConnectStack({ config: `${signIn.server}\n${signIn.reauth}` });
  });
  afterAll(async () => {
    await stack?.close();
    await issuer?.stop();
  });

  it('refuses a post with Origin: null and no Sec-Fetch-Site (a no-referrer page of another site, older browser)', async () => {
    const tenant = uniqueTenant('nullorigin');
    const res = await fetch(`${stack.keygate.url}/proxy/${tenant}/remote/items`, {
      headers: { authorization: `Bearer ${stack.key}`, 'keygate-user': 'alice' },
    });
    const problem = (await res.json()) as Record<string, string>;
    expect([res.status, res.headers.get('x-keygate-error')]).toEqual([401, 'reauth_required']);
    const connectUrl = problem['connect_url'] as string;

    const before = issuer.counts.authorizations;
    const posted = await fetch(`${connectUrl}/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'null' },
      body: '',
      redirect: 'manual',
    });
    await posted.text();
    expect([posted.status, posted.headers.get('x-keygate-error')]).toEqual([403, 'connect_cross_site']);
    expect(issuer.counts.authorizations).toBe(before);
  });
});
