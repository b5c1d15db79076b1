/**
 * The OAuth error codes Keygate passes on as they are: RFC 6749 (§4.1.2.1 and §5.2) and
 * the IANA "OAuth Extensions Error Registry" (RFC 6750 bearer tokens, OpenID Connect,
 * RFC 9101 JAR, UMA 2.0, RFC 7591 registration, RFC 8628 device grant, RFC 8707 resource
 * indicators, ACE, RFC 9396 RAR, RFC 9449 DPoP, RFC 9470 step-up). A provider's `error`
 * is otherwise free text it chose, which may be markup or personal data: it becomes
 * `provider_error` and goes nowhere else (events, webhooks, the inventory, logs).
 */
const REGISTERED = new Set([
  // RFC 6749
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'access_denied',
  'unsupported_response_type',
  'server_error',
  'temporarily_unavailable',
  // RFC 6750
  'invalid_token',
  'insufficient_scope',
  // RFC 7009 / RFC 8693
  'unsupported_token_type',
  // OpenID Connect Core, Registration
  'interaction_required',
  'login_required',
  'account_selection_required',
  'consent_required',
  'registration_not_supported',
  // RFC 9101 (JAR)
  'invalid_request_uri',
  'invalid_request_object',
  'request_not_supported',
  'request_uri_not_supported',
  // UMA 2.0 grant
  'need_info',
  'request_denied',
  'request_submitted',
  // RFC 7591 dynamic client registration
  'invalid_redirect_uri',
  'invalid_client_metadata',
  'invalid_software_statement',
  'unapproved_software_statement',
  // RFC 8628 device authorization grant
  'authorization_pending',
  'slow_down',
  'expired_token',
  // RFC 8707 resource indicators
  'invalid_target',
  // ACE (RFC 9200, RFC 9201)
  'unsupported_pop_key',
  'incompatible_ace_profiles',
  // RFC 9396 rich authorization requests
  'invalid_authorization_details',
  // RFC 9449 DPoP
  'invalid_dpop_proof',
  'use_dpop_nonce',
  // RFC 9470 step-up authentication
  'insufficient_user_authentication',
]);

/** What Keygate names a provider's error it does not recognise. */
export const PROVIDER_ERROR = 'provider_error';

/** The provider's `error` if it is a registered OAuth error code (exactly), else `provider_error`. */
export function oauthErrorCode(error: unknown): string {
  return typeof error === 'string' && REGISTERED.has(error) ? error : PROVIDER_ERROR;
}
