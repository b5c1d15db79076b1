import type { Credential } from '../credentials/types.ts';
import type { Injector } from './inject.ts';
import { withoutQueryParam } from './path.ts';

type Headers = Record<string, string | string[] | number | undefined>;

/** What the attempt in flight knows about the credential it injected. */
export interface InjectedCredential {
  credential: Credential;
  token: string;
  plan: { injector: Injector };
}

/** The forms an injected credential can take in a response header, computed once per credential. */
export interface Forbidden {
  /** The token these variants were computed for. */
  readonly token: string;
  /** Substrings no header may carry: raw, percent-encoded, form-encoded, base64, the injected value. */
  readonly variants: readonly string[];
  /** The shortest variant: a shorter header value cannot hold any of them. */
  readonly minLength: number;
  /** The injected query parameter, stripped from URL-bearing headers before anything else. */
  readonly query: string | undefined;
}

// Shorter secrets are not searched for in arbitrary headers: a two-letter key would
// match half the headers an upstream sends. Redirect targets are still stripped of
// the injected parameter by name, whatever its value.
export const MIN_SCANNED_LENGTH = 8;

// Headers whose values are (or hold) URLs: where an upstream echoes a query string.
const URL_HEADERS = new Set(['location', 'content-location', 'link', 'refresh']);
// A query string inside a URL: up to a fragment, whitespace, or what ends a URL in Link (`>`) or quotes.
const QUERY_IN_URL = /\?([^#\s<>"']*)/g;

const byCredential = new WeakMap<Credential, Forbidden>();

const b64 = (text: string) => Buffer.from(text).toString('base64');
const b64url = (text: string) => Buffer.from(text).toString('base64url');

/** The variants for one credential; cached on the credential object, which the cache shares. */
export function forbiddenFor(injected: InjectedCredential): Forbidden {
  const cached = byCredential.get(injected.credential);
  if (cached?.token === injected.token) return cached;
  const forbidden = computeForbidden(injected.token, injected.plan.injector);
  byCredential.set(injected.credential, forbidden);
  return forbidden;
}

export function computeForbidden(token: string, injector: Injector): Forbidden {
  const candidates = new Set<string>([token]);
  const encoded = safeEncode(token);
  if (encoded !== undefined) {
    candidates.add(encoded);
    candidates.add(encoded.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()));
    candidates.add(encoded.replace(/%20/g, '+'));
  }
  candidates.add(b64(token).replace(/=+$/, ''));
  candidates.add(b64url(token));
  if (injector.header !== undefined) {
    // Basic: the secret only exists as base64 of "user:password", so that is what to look for.
    const value = safeValue(injector, token);
    const basic = value === undefined ? undefined : /^Basic (\S+)$/.exec(value)?.[1];
    if (basic) candidates.add(basic.replace(/=+$/, ''));
  }
  const variants = [...candidates].filter((v) => v.length >= MIN_SCANNED_LENGTH);
  return {
    token,
    variants,
    minLength: variants.reduce((min, v) => Math.min(min, v.length), Number.POSITIVE_INFINITY),
    query: injector.query,
  };
}

function safeEncode(token: string): string | undefined {
  try {
    return encodeURIComponent(token);
  } catch {
    return undefined; // a lone surrogate: refused at PUT, so never injected
  }
}

function safeValue(injector: Injector, token: string): string | undefined {
  try {
    return injector.value(token);
  } catch {
    return undefined;
  }
}

function holdsSecret(value: string, forbidden: Forbidden): boolean {
  if (value.length < forbidden.minLength) return false;
  for (const variant of forbidden.variants) if (value.includes(variant)) return true;
  return false;
}

/** A URL-bearing value with every occurrence of the injected query parameter removed. */
export function stripQueryParam(value: string, name: string): string {
  if (!value.includes('?')) return value;
  return value.replace(QUERY_IN_URL, (_match, query: string) => {
    const kept = withoutQueryParam(query, name);
    return kept === '' ? '' : `?${kept}`;
  });
}

function scrubValue(name: string, value: string, forbidden: Forbidden): string | undefined {
  const cleaned =
    forbidden.query !== undefined && URL_HEADERS.has(name) ? stripQueryParam(value, forbidden.query) : value;
  return holdsSecret(cleaned, forbidden) ? undefined : cleaned;
}

/**
 * Takes the injected credential out of the upstream's response headers before the
 * caller sees them: the injected query parameter is stripped from Location,
 * Content-Location, Link and Refresh (a redirect that echoes the query would hand
 * the caller the secret), and any header still holding the secret in any form is
 * dropped whole rather than half-mangled. Mutates and returns `headers` (a fresh
 * object per response); `onDrop` hears each dropped header's name, never its value.
 */
export function scrubResponseHeaders(
  headers: Headers,
  injected: InjectedCredential,
  onDrop?: (name: string) => void,
): Headers {
  const forbidden = forbiddenFor(injected);
  // Nothing to look for (a short secret injected as a header): no work per response.
  if (forbidden.variants.length === 0 && forbidden.query === undefined) return headers;
  for (const name in headers) {
    const value = headers[name];
    if (typeof value === 'string') {
      const kept = scrubValue(name, value, forbidden);
      if (kept === undefined) {
        delete headers[name];
        onDrop?.(name);
      } else if (kept !== value) headers[name] = kept;
    } else if (Array.isArray(value)) {
      const kept = value.map((v) => scrubValue(name, v, forbidden)).filter((v) => v !== undefined);
      if (kept.length < value.length) onDrop?.(name);
      if (kept.length === 0) delete headers[name];
      else headers[name] = kept;
    }
  }
  return headers;
}
