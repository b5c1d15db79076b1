import { describe, expect, it } from 'vitest';
import {
  formToken,
  newFormKey,
  newNonce,
  nonceCookie,
  nonceOf,
  sentFromElsewhere,
  tokenMatches,
} from './forgery.ts';

const ORIGIN = 'https://keygate.example';
const ID = 'AAAAAAAAAAAAAAAAAAAAAA';

describe('the connect form: where a post comes from', () => {
  it('takes same-origin posts, the opaque origin of a no-referrer page, and posts that say nothing', () => {
    for (const headers of [
      { 'sec-fetch-site': 'same-origin', origin: 'null' },
      { 'sec-fetch-site': 'same-origin', origin: ORIGIN },
      { origin: ORIGIN },
      { origin: 'null' },
      {},
    ]) {
      expect(sentFromElsewhere(headers, ORIGIN), JSON.stringify(headers)).toBe(false);
    }
    // publicUrl may carry a path: its origin is what counts.
    expect(sentFromElsewhere({ origin: ORIGIN }, `${ORIGIN}/keygate`)).toBe(false);
  });

  it('refuses another site, a sibling site, another scheme or port, a user-typed POST, and a joined Origin', () => {
    for (const headers of [
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { 'sec-fetch-site': 'none' },
      { 'sec-fetch-site': 'same-origin', origin: 'https://evil.test' },
      { origin: 'https://evil.test' },
      { origin: 'http://keygate.example' },
      { origin: 'https://keygate.example:8443' },
      { origin: 'https://sub.keygate.example' },
      { origin: `${ORIGIN}, https://evil.test` },
      { origin: 'null', 'sec-fetch-site': 'cross-site' },
    ]) {
      expect(sentFromElsewhere(headers, ORIGIN), JSON.stringify(headers)).toBe(true);
    }
  });
});

describe('the connect form: the page token and its cookie', () => {
  it('matches only the same key, link and nonce', () => {
    const key = newFormKey();
    const nonce = newNonce();
    const token = formToken(key, ID, nonce);
    expect(tokenMatches(key, ID, nonce, token)).toBe(true);
    expect(tokenMatches(newFormKey(), ID, nonce, token)).toBe(false);
    expect(tokenMatches(key, 'BBBBBBBBBBBBBBBBBBBBBB', nonce, token)).toBe(false);
    expect(tokenMatches(key, ID, newNonce(), token)).toBe(false);
    expect(tokenMatches(key, ID, nonce, '')).toBe(false);
    expect(tokenMatches(key, ID, nonce, `${token}x`)).toBe(false);
  });

  it('sets a strict, HttpOnly cookie scoped to the link (__Host- over https) and reads it back', () => {
    const nonce = newNonce();
    const secure = nonceCookie(ID, nonce, true, 599.2).split('; ');
    expect(secure[0]).toBe(`__Host-keygate-connect-${ID}=${nonce}`);
    expect(secure.slice(1).sort()).toEqual([
      'HttpOnly',
      'Max-Age=600',
      'Path=/',
      'SameSite=Strict',
      'Secure',
    ]);
    const plain = nonceCookie(ID, nonce, false, 0.1);
    expect(plain).toContain(`keygate-connect-${ID}=${nonce}`);
    expect(plain).toContain(`Path=/connect/${ID}`);
    expect(plain).toContain('SameSite=Strict');
    expect(plain).toContain('Max-Age=1');
    expect(plain).not.toContain('Secure');

    const cookie = `other=1; __Host-keygate-connect-${ID}=${nonce}; keygate-connect-${ID}=${newNonce()}`;
    expect(nonceOf({ cookie }, ID, true)).toBe(nonce);
    expect(nonceOf({ cookie: `keygate-connect-${ID}=${nonce}` }, ID, true)).toBeUndefined();
    expect(nonceOf({ cookie: `keygate-connect-${ID}=not-a-nonce` }, ID, false)).toBeUndefined();
    expect(nonceOf({}, ID, false)).toBeUndefined();
  });
});
