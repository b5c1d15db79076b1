import { KeygateError } from '../errors.ts';

// Anything a browser would read differently from the URL parser (backslashes, which WHATWG
// URL turns into slashes, whitespace and control characters), refused before parsing.
// eslint-disable-next-line no-control-regex -- control characters are exactly what it refuses
const UNSAFE = /[\\\s\u0000-\u001f\u007f]/;

/**
 * Checks a connect flow's `returnTo` against `oauth.allowedReturnUrls` and answers it
 * normalised: the same origin (scheme, host, port) as an allowed URL and a path under its
 * path on a segment boundary (`/app` allows `/app` and `/app/x`, not `/apple`); absolute
 * http(s) only, no user info. Anything else is `return_url_not_allowed`.
 */
export function checkReturnTo(value: string, allowed: readonly string[]): string {
  const refuse = () => new KeygateError('return_url_not_allowed');
  if (UNSAFE.test(value) || !/^https?:\/\//i.test(value)) throw refuse();
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw refuse();
  }
  if (url.username || url.password) throw refuse();
  const fits = allowed.some((entry) => {
    const base = new URL(entry);
    return base.origin === url.origin && underPath(url.pathname, base.pathname);
  });
  if (!fits) throw refuse();
  return url.href;
}

function underPath(path: string, prefix: string): boolean {
  if (prefix.endsWith('/')) return path.startsWith(prefix);
  return path === prefix || path.startsWith(`${prefix}/`);
}

/** `returnTo` with the outcome's parameters added to its query (its own query and fragment kept). */
export function withOutcome(returnTo: string, parameters: Record<string, string>): string {
  const url = new URL(returnTo);
  for (const [name, value] of Object.entries(parameters)) url.searchParams.set(name, value);
  return url.href;
}
