/**
 * Forwarding headers from the caller are dropped, and Keygate sets none (the decision
 * is in docs/security.md): upstreams build absolute URLs (redirects, pagination
 * links) from them, so a caller-chosen `X-Forwarded-Host` could point an upstream's
 * answer at a host of the caller's choosing; and the upstream's client is Keygate,
 * which audits who the caller was.
 */
export const FORWARDING: ReadonlySet<string> = new Set([
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-server',
  'x-real-ip',
]);
