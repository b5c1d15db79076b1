import * as oauth from 'oauth4webapi';
import type { AuthConfig } from '../config/schema.ts';
import { oauthErrorCode } from './error-codes.ts';

/** What a token endpoint granted; expiry already converted to an absolute time. */
export interface TokenSet {
  accessToken: string;
  /** Absent when the provider did not rotate it; the caller keeps the old one. */
  refreshToken?: string;
  tokenType: string;
  expiresAt: string;
  scopes?: string[];
}

export type Grant =
  | { type: 'refresh_token'; refreshToken: string }
  | { type: 'client_credentials' }
  | {
      type: 'authorization_code';
      /** The callback's parameters, as returned by validateCallback(). */
      callback: URLSearchParams;
      redirectUri: string;
      codeVerifier: string;
    };

/** The authorization server and client as oauth4webapi wants them, from the integration's config. */
export function endpoints(auth: AuthConfig): { as: oauth.AuthorizationServer; client: oauth.Client } {
  if (!auth.tokenUrl || !auth.clientId) {
    throw new TokenEndpointError({ transient: false, reason: 'integration has no tokenUrl or clientId' });
  }
  const tokenUrl = new URL(auth.tokenUrl);
  return {
    as: {
      issuer: expectedIssuer(auth),
      token_endpoint: tokenUrl.href,
      ...(auth.authorizationUrl ? { authorization_endpoint: auth.authorizationUrl } : {}),
      // RFC 9207: oauth4webapi then refuses a callback without `iss`; one with it is always checked.
      ...(auth.issParameterSupported ? { authorization_response_iss_parameter_supported: true } : {}),
    },
    client: { client_id: auth.clientId },
  };
}

/**
 * The issuer a callback's `iss` must equal (RFC 9207): the configured one, else the origin of
 * the authorization endpoint the browser was sent to (the token endpoint's for integrations
 * without one). A provider whose issuer has a path needs `auth.issuer`.
 */
export function expectedIssuer(auth: AuthConfig): string {
  if (auth.issuer) return auth.issuer;
  return new URL(auth.authorizationUrl ?? (auth.tokenUrl as string)).origin;
}

export interface TokenRequestOptions {
  timeoutMs: number;
  /** Lifetime assumed when the answer has no `expires_in`. */
  defaultExpiresInSeconds: number;
  /** Subtracted from the lifetime, so a slow clock or a slow answer never serves an expired token. */
  clockSkewSeconds: number;
  now?: () => number;
}

/**
 * A failed token request. `transient` failures (network, timeout, 408, 429, 5xx,
 * `temporarily_unavailable`) are worth retrying; the others (`invalid_grant`,
 * `invalid_client`, revoked) will not heal without the tenant. The message holds
 * only the status and the OAuth error code, never the provider's text: `oauthError` is a
 * registered OAuth error code (error-codes.ts), `provider_error`, or one of Keygate's own.
 */
export class TokenEndpointError extends Error {
  readonly transient: boolean;
  readonly status: number | undefined;
  readonly oauthError: string | undefined;
  /** From Retry-After, when the provider sent one. */
  readonly retryAfterMs: number | undefined;

  constructor(fields: {
    transient: boolean;
    status?: number | undefined;
    oauthError?: string | undefined;
    retryAfterMs?: number | undefined;
    reason?: string;
  }) {
    const what = fields.oauthError ?? fields.reason ?? (fields.status ? `HTTP ${fields.status}` : 'error');
    super(`token endpoint failed: ${what}`);
    this.name = 'TokenEndpointError';
    this.transient = fields.transient;
    this.status = fields.status;
    this.oauthError = fields.oauthError;
    this.retryAfterMs = fields.retryAfterMs;
  }
}

// OAuth error codes that mean "try again later"; every other OAuth error is permanent.
const TRANSIENT_OAUTH_ERRORS = new Set(['temporarily_unavailable', 'server_error', 'slow_down']);

/** One token request (no retries) through oauth4webapi, with the integration's client authentication. */
export async function requestTokens(
  auth: AuthConfig,
  grant: Grant,
  options: TokenRequestOptions,
): Promise<TokenSet> {
  const { as, client } = endpoints(auth);
  const tokenUrl = new URL(as.token_endpoint as string);
  const clientAuth = clientAuthentication(auth);
  const requestOptions: oauth.TokenEndpointRequestOptions = {
    signal: AbortSignal.timeout(options.timeoutMs),
    // The operator chose an http:// token URL in the configuration (loopback, tests).
    [oauth.allowInsecureRequests]: tokenUrl.protocol === 'http:',
  };
  const extra: Record<string, string> = {};
  if (grant.type === 'client_credentials' && auth.scopes?.length) extra['scope'] = auth.scopes.join(' ');
  // RFC 8707: every token request names the resource, so the token is audience-restricted to it.
  if (auth.resource) extra['resource'] = auth.resource;
  if (Object.keys(extra).length > 0) requestOptions.additionalParameters = extra;
  const now = options.now ?? Date.now;
  let response: Response;
  try {
    response = await sendGrant(as, client, clientAuth, grant, requestOptions);
  } catch (err) {
    throw new TokenEndpointError({ transient: true, reason: networkReason(err) });
  }
  // The lifetime counts from when the answer arrived here, not from the provider's clock.
  const receivedAt = now();
  if (response.status === 408 || response.status === 429 || response.status >= 500) {
    await response.body?.cancel().catch(() => {});
    throw new TokenEndpointError({
      transient: true,
      status: response.status,
      retryAfterMs: parseRetryAfter(response.headers.get('retry-after'), receivedAt),
    });
  }
  let result: oauth.TokenEndpointResponse;
  try {
    result =
      grant.type === 'refresh_token'
        ? await oauth.processRefreshTokenResponse(as, client, response)
        : grant.type === 'authorization_code'
          ? await oauth.processAuthorizationCodeResponse(as, client, response)
          : await oauth.processClientCredentialsResponse(as, client, response);
  } catch (err) {
    throw classify(err, response.status);
  }
  const lifetime =
    typeof result.expires_in === 'number' ? result.expires_in : options.defaultExpiresInSeconds;
  const expiresAt = new Date(receivedAt + (lifetime - options.clockSkewSeconds) * 1000).toISOString();
  const tokens: TokenSet = { accessToken: result.access_token, tokenType: result.token_type, expiresAt };
  if (typeof result.refresh_token === 'string' && result.refresh_token !== '') {
    tokens.refreshToken = result.refresh_token;
  }
  if (typeof result.scope === 'string') tokens.scopes = result.scope.split(' ').filter(Boolean);
  return tokens;
}

function sendGrant(
  as: oauth.AuthorizationServer,
  client: oauth.Client,
  clientAuth: oauth.ClientAuth,
  grant: Grant,
  options: oauth.TokenEndpointRequestOptions,
): Promise<Response> {
  switch (grant.type) {
    case 'refresh_token':
      return oauth.refreshTokenGrantRequest(as, client, clientAuth, grant.refreshToken, options);
    case 'authorization_code':
      return oauth.authorizationCodeGrantRequest(
        as,
        client,
        clientAuth,
        grant.callback,
        grant.redirectUri,
        grant.codeVerifier,
        options,
      );
    case 'client_credentials':
      return oauth.clientCredentialsGrantRequest(as, client, clientAuth, new URLSearchParams(), options);
  }
}

/** The integration's client authentication at its token (and revocation) endpoint. */
export function clientAuthentication(auth: AuthConfig): oauth.ClientAuth {
  if (!auth.clientSecret) return oauth.None();
  return auth.tokenEndpointAuthMethod === 'client_secret_post'
    ? oauth.ClientSecretPost(auth.clientSecret)
    : oauth.ClientSecretBasic(auth.clientSecret);
}

function classify(err: unknown, status: number): TokenEndpointError {
  if (err instanceof oauth.ResponseBodyError) {
    // The provider's `error` is its own text: only a registered code passes (error-codes.ts).
    const oauthError = oauthErrorCode(err.error);
    return new TokenEndpointError({
      transient: TRANSIENT_OAUTH_ERRORS.has(oauthError),
      status: err.status,
      oauthError,
    });
  }
  if (err instanceof oauth.WWWAuthenticateChallengeError) {
    // A 401 challenge from a token endpoint means the client itself is refused.
    return new TokenEndpointError({ transient: false, status: err.status, oauthError: 'invalid_client' });
  }
  // A 200 that is not a token answer (a proxy's HTML page, a truncated body): try again later.
  return new TokenEndpointError({ transient: true, status, reason: 'unexpected answer' });
}

function networkReason(err: unknown): string {
  const name = (err as { name?: unknown })?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return 'timeout';
  const code = (err as { cause?: { code?: unknown } })?.cause?.code;
  return typeof code === 'string' ? code : 'network error';
}

function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
