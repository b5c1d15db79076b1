import { createHash, timingSafeEqual } from 'node:crypto';

// The few short-lived cookies that bind a browser flow (a sign-in, a connect) to the browser
// that started it. Values are base64url, so neither side needs escaping.

const TOKEN = /^[A-Za-z0-9._-]{1,512}$/;

/** One cookie's value from a `Cookie` header; undefined when absent or not in the expected alphabet. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    return TOKEN.test(value) ? value : undefined;
  }
  return undefined;
}

export interface CookieOptions {
  path: string;
  /** Seconds; 0 deletes the cookie. */
  maxAge: number;
  /** Sent only over HTTPS: set whenever Keygate's public URL is https. */
  secure: boolean;
}

/**
 * A `Set-Cookie` value: HttpOnly (no script reads it), SameSite=Lax (sent on the top-level
 * navigation back from an identity or OAuth provider, which Strict would drop; never on a
 * cross-site subresource or POST), scoped to the one path that reads it.
 */
export function bindingCookie(name: string, value: string, options: CookieOptions): string {
  const parts = [
    `${name}=${value}`,
    `Path=${options.path}`,
    `Max-Age=${Math.max(0, Math.floor(options.maxAge))}`,
  ];
  parts.push('HttpOnly', 'SameSite=Lax');
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
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
