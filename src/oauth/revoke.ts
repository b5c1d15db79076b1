import * as oauth from 'oauth4webapi';
import type { AuthConfig } from '../config/schema.ts';
import type { CredentialSecret } from '../credentials/types.ts';
import { clientAuthentication } from './token-client.ts';

/** Why a credential was not revoked at the provider; stable codes for answers and events. */
export type NotRevokedReason =
  | 'not_oauth'
  | 'no_revocation_url'
  | 'no_token'
  | 'undecryptable'
  | 'provider_refused'
  | 'provider_unavailable';

export type Revocation = { revoked: true } | { revoked: false; reason: NotRevokedReason };

/**
 * RFC 7009 revocation through oauth4webapi, with the integration's client authentication
 * (or the tenant's own client): the refresh token first (revoking it ends the grant, and
 * with most providers its access tokens), then the access token. Revoked only when every
 * token sent was accepted; the provider's text is never passed on, only a code.
 */
export async function revokeAtProvider(
  auth: AuthConfig,
  secret: CredentialSecret,
  timeoutMs: number,
): Promise<Revocation> {
  if (auth.type === 'api_key') return { revoked: false, reason: 'not_oauth' };
  if (!auth.revocationUrl || !auth.clientId) return { revoked: false, reason: 'no_revocation_url' };
  const tokens: Array<[string, 'refresh_token' | 'access_token']> = [];
  if (secret.refreshToken) tokens.push([secret.refreshToken, 'refresh_token']);
  if (secret.accessToken) tokens.push([secret.accessToken, 'access_token']);
  if (tokens.length === 0) return { revoked: false, reason: 'no_token' };
  const url = new URL(auth.revocationUrl);
  const as: oauth.AuthorizationServer = { issuer: url.origin, revocation_endpoint: url.href };
  const client: oauth.Client = { client_id: auth.clientId };
  for (const [token, hint] of tokens) {
    let response: Response;
    try {
      response = await oauth.revocationRequest(as, client, clientAuthentication(auth), token, {
        additionalParameters: { token_type_hint: hint },
        signal: AbortSignal.timeout(timeoutMs),
        // The operator chose an http:// revocation URL in the configuration (loopback, tests).
        [oauth.allowInsecureRequests]: url.protocol === 'http:',
      });
    } catch {
      return { revoked: false, reason: 'provider_unavailable' };
    }
    try {
      await oauth.processRevocationResponse(response);
    } catch {
      const transient = response.status === 429 || response.status >= 500;
      return { revoked: false, reason: transient ? 'provider_unavailable' : 'provider_refused' };
    }
  }
  return { revoked: true };
}
