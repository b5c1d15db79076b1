const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** A URL hostname (WHATWG form: IPv6 in brackets) that stays on this machine. */
export function isLoopback(hostname: string): boolean {
  return LOOPBACK.has(hostname);
}

/**
 * True for a URL that is neither https:// nor on loopback: a root of trust (an issuer, its
 * keys) reached that way could be answered by anyone on the path.
 */
export function plainHttp(url: string | URL): boolean {
  const { protocol, hostname } = typeof url === 'string' ? new URL(url) : url;
  return protocol !== 'https:' && !isLoopback(hostname);
}

/** The problem line for a URL that plainHttp refuses. */
export const MUST_BE_HTTPS = 'must be https:// (http:// only on loopback)';
