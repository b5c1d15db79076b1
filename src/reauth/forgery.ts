import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { bindingCookie, readCookie } from '../http/cookies.ts';

/**
 * What keeps the confirmation form of `GET /connect/{id}` from being posted by anyone but
 * the page itself, in the browser that opened it (whoever holds the URL and the code could
 * otherwise auto-submit it from any site, and the person would never see the page):
 *
 * - the post must come from Keygate's own origin: `Sec-Fetch-Site`, when sent, must be
 *   `same-origin`, and `Origin`, when it names one, must be Keygate's public origin (a
 *   page served with `Referrer-Policy: no-referrer` posts with `Origin: null`, which names
 *   none);
 * - the page sets a cookie holding a random nonce (HttpOnly, SameSite=Strict, `__Host-`
 *   over https) and puts HMAC-SHA256(link's form key, link id + nonce) in the form. The
 *   form key is random per link and stored with it in Vault, so any replica checks a page
 *   another served, and nothing is written when a page is shown. A cross-site post carries
 *   no SameSite=Strict cookie, and a script holding URL and code has no page cookie in the
 *   victim's browser.
 */
export const TOKEN_FIELD = 'form_token';
const NONCE = /^[A-Za-z0-9_-]{22}$/;

/** A new per-link form key (stored with the link, never shown). */
export const newFormKey = (): string => randomBytes(32).toString('base64url');
/** A new per-page nonce (the browser's cookie). */
export const newNonce = (): string => randomBytes(16).toString('base64url');

/** The form's token for this link and the browser's nonce. */
export function formToken(formKey: string, linkId: string, nonce: string): string {
  return createHmac('sha256', formKey).update(`${linkId}.${nonce}`).digest('base64url');
}

/** True when `token` is the form token for this link and nonce (constant time). */
export function tokenMatches(formKey: string, linkId: string, nonce: string, token: string): boolean {
  const want = Buffer.from(formToken(formKey, linkId, nonce));
  const given = Buffer.from(token);
  return want.length === given.length && timingSafeEqual(want, given);
}

/** True when the request's own headers say it was sent from another origin than `publicOrigin`. */
export function sentFromElsewhere(headers: IncomingHttpHeaders, publicOrigin: string): boolean {
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return true;
  const origin = headers.origin;
  return origin !== undefined && origin !== 'null' && origin !== new URL(publicOrigin).origin;
}

// Over https the `__Host-` prefix: only this origin can set it (no Domain, Path=/, Secure).
const cookieName = (linkId: string, secure: boolean) => `${secure ? '__Host-' : ''}keygate-connect-${linkId}`;

/** The browser's nonce for this link, from its Cookie header; undefined when absent or malformed. */
export function nonceOf(headers: IncomingHttpHeaders, linkId: string, secure: boolean): string | undefined {
  const value = readCookie(headers.cookie, cookieName(linkId, secure));
  return value !== undefined && NONCE.test(value) ? value : undefined;
}

/** The Set-Cookie line holding the nonce, for as long as the link lives (0: the line that removes it). */
export function nonceCookie(linkId: string, nonce: string, secure: boolean, maxAgeSeconds: number): string {
  return bindingCookie(cookieName(linkId, secure), nonce, {
    path: secure ? '/' : `/connect/${linkId}`,
    maxAge: maxAgeSeconds,
    secure,
    sameSite: 'Strict',
  });
}
