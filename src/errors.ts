/**
 * The one catalogue of errors Keygate makes itself. Each code is stable (clients and
 * docs rely on it), has one HTTP status, and a message that never holds a secret.
 * `docs/errors.md` lists every code; `errors.unit.test.ts` keeps the two in step. A message
 * is one sentence: what is wrong, then, after a semicolon, what to do (the CLI swaps that
 * second part for its own command); the same test holds every message to it.
 */
export const ERRORS = {
  bad_request: { status: 400, message: 'The request is malformed.' },
  validation_failed: { status: 400, message: 'The request has invalid fields.' },
  invalid_name: {
    status: 400,
    message: 'Tenant, integration and account names must match ^[a-z0-9][a-z0-9_-]{0,62}$.',
  },
  invalid_path: { status: 400, message: "The path would leave the integration's base URL." },
  connect_unsupported: {
    status: 400,
    message:
      'This integration has no authorization-code flow (it needs auth.type oauth2 and an authorizationUrl).',
  },
  oauth_state_invalid: {
    status: 400,
    message: 'The OAuth callback has an unknown, used or expired state; start the connect flow again.',
  },
  oauth_denied: { status: 400, message: 'The provider did not grant access; start the connect flow again.' },
  oauth_callback_malformed: {
    status: 400,
    message:
      "The OAuth callback has neither a code nor an error, so it is not the provider's answer; the connect flow is still open.",
  },
  oauth_issuer_mismatch: {
    status: 400,
    message:
      "The authorization response's issuer (iss) is not this integration's, so nothing was stored; check auth.issuer.",
  },
  return_url_not_allowed: {
    status: 400,
    message:
      'returnTo is not under any of oauth.allowedReturnUrls (same origin, path on a segment boundary).',
  },
  keygate_user_invalid: {
    status: 400,
    message:
      'The keygate-user header must name the user in 1 to 1024 bytes of UTF-8; Keygate cannot bind a connect link to this value.',
  },
  connect_signin_invalid: {
    status: 400,
    message:
      'This sign-in is unknown, already used, expired, or was started in another browser; open the connect link again.',
  },
  connect_code_invalid: {
    status: 400,
    message: 'That confirmation code does not match the one shown with this connect link.',
  },
  unauthorized: {
    status: 401,
    message:
      'Missing or invalid credentials for Keygate; send a valid Keygate key (on /v1, the admin token).',
  },
  invalid_token: {
    status: 401,
    message:
      'The access token is malformed, expired, not signed by a configured issuer, or for another audience.',
  },
  credential_refresh_failed: {
    status: 401,
    message: 'The credential could not be refreshed; the tenant must connect the integration again.',
  },
  reauth_required: {
    status: 401,
    message: 'The tenant must connect this integration (again); open connect_url to do it.',
  },
  connect_identity_invalid: {
    status: 403,
    message:
      'The user who signed in (or whom the application vouched for) is not one this link was made for.',
  },
  connect_cross_site: {
    status: 403,
    message:
      "This confirmation did not come from the connect page opened in this browser (another site sent it, or the page's token is missing), so nothing was spent; open the connect link and continue there only if you started this.",
  },
  forbidden: {
    status: 403,
    message: 'This key may not be used for that tenant or integration; use a key whose scope includes them.',
  },
  insufficient_scope: {
    status: 403,
    message:
      'The access token lacks the scope keygate:proxy or keygate:proxy:{integration} for this request.',
  },
  account_not_allowed: {
    status: 403,
    message: 'This caller may not use that account (keygate-account names one it is not allowed).',
  },
  not_found: { status: 404, message: 'No such route; GET /openapi.json lists the routes Keygate has.' },
  unknown_integration: {
    status: 404,
    message: 'No such integration is configured; GET /v1/integrations lists those that are.',
  },
  credential_not_found: {
    status: 404,
    message:
      'No credential is stored for this tenant and integration; store one, or connect the integration.',
  },
  key_not_found: { status: 404, message: 'No such Keygate key; GET /v1/keys lists the keys.' },
  tenant_not_found: { status: 404, message: 'No such tenant: it has never stored a credential.' },
  method_not_allowed: {
    status: 405,
    message: 'This method is not allowed here (TRACE and TRACK never are).',
  },
  request_timeout: { status: 408, message: 'The request was not received in time.' },
  conflict: { status: 409, message: 'The record changed under this write; read it again and retry.' },
  connect_link_invalid: {
    status: 410,
    message: 'This connect link is unknown, already used or expired; retry the request for a new one.',
  },
  payload_too_large: { status: 413, message: 'The request body is larger than allowed.' },
  auth_throttled: {
    status: 429,
    message: 'Too many failed authentications from this address; retry later.',
  },
  rate_limited: {
    status: 429,
    message: "Over this key's or tenant's request limit (limits.requestsPerMinute); retry after Retry-After.",
  },
  upstream_budget_exhausted: {
    status: 429,
    message:
      "The provider's rate limit for this credential is spent until its reset, so Keygate did not call it; retry after Retry-After.",
  },
  headers_too_large: { status: 431, message: 'The request headers are larger than allowed.' },
  client_closed_request: {
    status: 499,
    message: 'The caller closed the connection before the request was read.',
  },
  credential_undecryptable: {
    status: 500,
    message: 'The stored credential cannot be decrypted for this tenant and integration.',
  },
  internal_error: { status: 500, message: 'Keygate failed to handle the request.' },
  vault_error: { status: 502, message: 'Vault refused the operation.' },
  upstream_unreachable: { status: 502, message: 'The upstream could not be reached.' },
  upstream_handshake_failed: { status: 502, message: 'The upstream refused the WebSocket handshake.' },
  token_endpoint_unavailable: {
    status: 502,
    message: "The integration's token endpoint failed; the refresh will be retried.",
  },
  identity_provider_unavailable: {
    status: 502,
    message:
      'The identity provider (reauth.identity.oidc) could not be reached or answered badly; retry later.',
  },
  vault_unavailable: {
    status: 503,
    message: 'Vault is unreachable, sealed or refusing Keygate; retry later.',
  },
  issuer_unavailable: {
    status: 503,
    message: "The access token's issuer could not be reached for its keys; retry later.",
  },
  upstream_timeout: { status: 504, message: 'The upstream did not answer in time.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export interface KeygateErrorOptions {
  /** Replaces the catalogue message; must be built from non-secret values only. */
  message?: string;
  /** Seconds a client should wait before retrying (sent as Retry-After). */
  retryAfter?: number;
  /** Non-secret detail, e.g. the list of invalid fields. */
  details?: readonly string[];
  /**
   * Extra response headers the answer must carry (lower-case names), e.g. RFC 6750's
   * `www-authenticate` or the IETF `ratelimit` fields. Never a secret.
   */
  headers?: Readonly<Record<string, string>>;
  cause?: unknown;
}

export class KeygateError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly retryAfter: number | undefined;
  readonly details: readonly string[] | undefined;
  readonly headers: Readonly<Record<string, string>> | undefined;

  constructor(code: ErrorCode, options: KeygateErrorOptions = {}) {
    super(
      options.message ?? ERRORS[code].message,
      options.cause === undefined ? {} : { cause: options.cause },
    );
    this.name = 'KeygateError';
    this.code = code;
    this.statusCode = ERRORS[code].status;
    this.retryAfter = options.retryAfter;
    this.details = options.details;
    this.headers = options.headers;
  }
}

export function isKeygateError(err: unknown, code?: ErrorCode): err is KeygateError {
  return err instanceof KeygateError && (code === undefined || err.code === code);
}
