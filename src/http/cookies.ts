import { createHash, timingSafeEqual } from 'node:crypto';
import { Headers, getCookies, setCookie } from 'undici';

// The few short-lived cookies that bind a browser flow (a sign-in, a connect, a connect
// link's page) to the browser that started it, read and written by undici's cookie helpers.
// Values are base64url, so neither side needs escaping.

const TOKEN = /^[A-Za-z0-9._-]{1,512}$/;

/** One cookie's value from a `Cookie` header; undefined when absent or not in the expected alphabet. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  const value = getCookies(new Headers({ cookie: header }))[name];
  return value !== undefined && TOKEN.test(value) ? value : undefined;
}

export interface CookieOptions {
  path: string;
  /** Seconds (a fraction rounds up, so a live cookie never gets 0); 0 or less deletes the cookie. */
  maxAge: number;
  /** Sent only over HTTPS: set whenever Keygate's public URL is https. */
  secure: boolean;
  /**
   * Lax (the default) is sent on the top-level navigation back from an identity or OAuth
   * provider, which Strict would drop; Strict for a cookie only Keygate's own page posts with.
   */
  sameSite?: 'Lax' | 'Strict';
}

/**
 * A `Set-Cookie` value: HttpOnly (no script reads it), SameSite (never on a cross-site
 * subresource or POST), scoped to the one path that reads it.
 */
export function bindingCookie(name: string, value: string, options: CookieOptions): string {
  const headers = new Headers();
  setCookie(headers, {
    name,
    value,
    path: options.path,
    maxAge: options.maxAge <= 0 ? 0 : Math.max(1, Math.ceil(options.maxAge)),
    httpOnly: true,
    secure: options.secure,
    sameSite: options.sameSite ?? 'Lax',
  });
  return headers.get('set-cookie') as string;
}

/** A cookie name for one flow, derived from its state: concurrent flows in one browser keep their own. */
export function flowCookieName(prefix: string, state: string): string {
  return `${prefix}-${createHash('sha256').update(state).digest('base64url').slice(0, 16)}`;
}

/** Values are compared as digests: Vault keeps only the digest of a browser's binding secret. */
export const digest = (value: string) => createHash('sha256').update(value).digest('base64url');

/** True when `value` is the one whose digest was kept (constant time); false when there is none. */
export function matchesDigest(value: string | undefined, stored: string): boolean {
  if (value === undefined) return false;
  const given = Buffer.from(digest(value));
  const kept = Buffer.from(stored);
  return given.length === kept.length && timingSafeEqual(given, kept);
}
