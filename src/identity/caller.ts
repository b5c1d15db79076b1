import type { IncomingHttpHeaders } from 'node:http';

/**
 * Who is calling the proxy, once authenticated: a Keygate key or (issue 20) a verified
 * access token. Everything after authentication (account choice, own limits, fair
 * shares of an upstream budget, the audit line, connect links) reads this, never the
 * presented secret.
 */
export interface Caller {
  readonly kind: 'key' | 'token';
  /**
   * Stable and non-secret: the key id, or for a token a name derived from its issuer and
   * subject. What the audit line shows as `caller` and what fair shares are counted by.
   */
  readonly id: string;
  /** The accounts this caller may use; undefined: every account. */
  readonly accounts?: readonly string[] | undefined;
  /** The account a token pins (issuer's `account` claim mapping); requests use it when they name none. */
  readonly account?: string | undefined;
  /** The user a connect link made for this caller is bound to (hashed, never the raw claim). */
  readonly subject?: string | undefined;
  /** Own limits that apply to this caller (a key attribute, or the issuer's). */
  readonly limits?: { readonly requestsPerMinute?: number | undefined } | undefined;
}

/** The proxy's first step: who calls, for this tenant and integration. Throws KeygateError 401/403/429. */
export interface CallerAuthenticator {
  authenticate(
    headers: IncomingHttpHeaders,
    address: string,
    tenant: string,
    integration: string,
  ): Promise<Caller>;
  /** The caller without a promise when all it takes is cached and allowed; undefined: ask authenticate(). */
  authenticateCached?(
    headers: IncomingHttpHeaders,
    address: string,
    tenant: string,
    integration: string,
  ): Caller | undefined;
}
