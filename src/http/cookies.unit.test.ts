import { describe, expect, it } from 'vitest';
import { bindingCookie, digest, flowCookieName, matchesDigest, readCookie } from './cookies.ts';

describe('binding cookies', () => {
  it('reads one cookie by name, and nothing outside the base64url alphabet', () => {
    const header = 'a=1; keygate-x=abc.DEF_-9; other="quoted"';
    expect(readCookie(header, 'keygate-x')).toBe('abc.DEF_-9');
    expect(readCookie(header, 'missing')).toBeUndefined();
    expect(readCookie(header, 'other')).toBeUndefined();
    expect(readCookie(undefined, 'a')).toBeUndefined();
  });

  it('sets HttpOnly, SameSite=Lax and the path; Secure only when asked; Max-Age=0 deletes', () => {
    const attributes = (line: string) => line.split('; ').sort();
    expect(attributes(bindingCookie('n', 'v', { path: '/cb', maxAge: 600.2, secure: false }))).toEqual(
      ['n=v', 'Path=/cb', 'Max-Age=601', 'HttpOnly', 'SameSite=Lax'].sort(),
    );
    expect(attributes(bindingCookie('n', '', { path: '/cb', maxAge: -5, secure: true }))).toEqual(
      ['n=', 'Path=/cb', 'Max-Age=0', 'HttpOnly', 'SameSite=Lax', 'Secure'].sort(),
    );
    expect(bindingCookie('n', 'v', { path: '/', maxAge: 1, secure: true, sameSite: 'Strict' })).toContain(
      'SameSite=Strict',
    );
  });

  it('names a flow’s cookie from its state, and compares a value with a kept digest', () => {
    expect(flowCookieName('p', 'state-1')).toMatch(/^p-[A-Za-z0-9_-]{16}$/);
    expect(flowCookieName('p', 'state-1')).not.toBe(flowCookieName('p', 'state-2'));
    const kept = digest('secret');
    expect(kept).not.toContain('secret');
    expect(matchesDigest('secret', kept)).toBe(true);
    expect(matchesDigest('Secret', kept)).toBe(false);
    expect(matchesDigest(undefined, kept)).toBe(false);
    expect(matchesDigest('secret', 'short')).toBe(false);
  });
});
