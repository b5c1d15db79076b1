import type { AuthConfig } from '../config/schema.ts';
import type { Credential, CredentialSecret, CredentialWrite } from '../credentials/types.ts';
import { TokenEndpointError, type Grant, type TokenSet } from '../oauth/token-client.ts';

/** The grant that renews a credential: client credentials, or its refresh token. */
export function grantFor(auth: AuthConfig, credential: Credential): Grant {
  if (auth.type === 'oauth2_client_credentials') return { type: 'client_credentials' };
  const refreshToken = credential.secret.refreshToken;
  // Without a refresh token only the tenant can get a new access token.
  if (!refreshToken) throw new TokenEndpointError({ transient: false, oauthError: 'no_refresh_token' });
  return { type: 'refresh_token', refreshToken };
}

/** The credential after a refresh: an answer without a new refresh token keeps the old one. */
export function refreshed(
  current: Credential,
  tokens: TokenSet,
  now: string,
): { next: Credential; write: CredentialWrite } {
  const secret: CredentialSecret = {
    ...current.secret,
    accessToken: tokens.accessToken,
    tokenType: tokens.tokenType,
  };
  const refreshToken = tokens.refreshToken ?? current.secret.refreshToken;
  if (refreshToken !== undefined) secret.refreshToken = refreshToken;
  const scopes = tokens.scopes ?? current.scopes;
  const write: CredentialWrite = {
    authType: current.authType,
    secret,
    expiresAt: tokens.expiresAt,
    scopes,
    status: 'active',
    lastRefreshedAt: now,
  };
  const next: Credential = {
    ...current,
    secret,
    expiresAt: tokens.expiresAt,
    scopes,
    status: 'active',
    updatedAt: now,
    lastRefreshedAt: now,
  };
  return { next, write };
}
