import type { Config, IntegrationConfig } from '../../config/schema.ts';
import type { CredentialWrite } from '../../credentials/types.ts';
import { KeygateError } from '../../errors.ts';
import { invalidFields } from '../../http/invalid-fields.ts';
import { authFor } from '../../oauth/client.ts';
import { TokenEndpointError, requestTokens } from '../../oauth/token-client.ts';
import type { PutCredentialBody } from './schemas.ts';

const TOKEN_FIELDS = [
  'accessToken',
  'refreshToken',
  'expiresIn',
  'expiresAt',
  'tokenType',
  'apiKey',
] as const;

/**
 * A PUT that asks Keygate to fetch the first token itself: an `oauth2_client_credentials`
 * integration with no access token given (`{}` for the integration's client, or the
 * tenant's own `{"clientId","clientSecret"}`). Anything else goes the usual way.
 */
export function wantsClientCredentialsFetch(
  integration: IntegrationConfig,
  body: PutCredentialBody,
): boolean {
  if (integration.auth.type !== 'oauth2_client_credentials') {
    const given = (['clientId', 'clientSecret'] as const).filter((f) => body[f] !== undefined);
    if (given.length > 0) {
      throw invalidFields(given.map((f) => `body.${f}: only for an oauth2_client_credentials integration`));
    }
    return false;
  }
  return body.accessToken === undefined;
}

/**
 * The first token from the client-credentials grant, at once, so nothing is stored
 * that does not work. A refusal is what a refresh would answer: 401
 * `credential_refresh_failed` (invalid_client, ...) or 502 `token_endpoint_unavailable`;
 * nothing is written then. The tenant's own client is kept in the encrypted secret.
 */
export async function firstClientCredentialsToken(
  integration: IntegrationConfig,
  body: PutCredentialBody,
  refresh: Config['refresh'],
): Promise<CredentialWrite> {
  const problems = TOKEN_FIELDS.filter((f) => body[f] !== undefined && f !== 'accessToken').map(
    (f) => `body.${f}: not allowed when Keygate fetches the token (give clientId/clientSecret or nothing)`,
  );
  if (body.clientSecret !== undefined && body.clientId === undefined) {
    problems.push('body.clientId: required with clientSecret');
  }
  if (body.clientId === undefined && !integration.auth.clientId) {
    problems.push('body.clientId: required, as the integration has no auth.clientId');
  }
  if (problems.length > 0) {
    throw invalidFields(problems);
  }
  const own = {
    ...(body.clientId === undefined ? {} : { clientId: body.clientId }),
    ...(body.clientSecret === undefined ? {} : { clientSecret: body.clientSecret }),
  };
  const auth = authFor(
    body.scopes === undefined ? integration.auth : { ...integration.auth, scopes: body.scopes },
    own,
  );
  const tokens = await requestTokens(
    auth,
    { type: 'client_credentials' },
    {
      timeoutMs: refresh.tokenTimeoutMs,
      defaultExpiresInSeconds: refresh.defaultExpiresInSeconds,
      clockSkewSeconds: refresh.clockSkewSeconds,
    },
  ).catch((err: unknown) => {
    if (err instanceof TokenEndpointError && !err.transient) {
      throw new KeygateError('credential_refresh_failed', {
        message: `The token endpoint refused the client (${err.oauthError ?? 'refused'}); check the client id and secret.`,
      });
    }
    throw new KeygateError('token_endpoint_unavailable', { retryAfter: refresh.retryFailedAfterSeconds });
  });
  return {
    authType: 'oauth2_client_credentials',
    secret: { accessToken: tokens.accessToken, tokenType: tokens.tokenType, ...own },
    expiresAt: tokens.expiresAt,
    scopes: tokens.scopes ?? auth.scopes ?? [],
    lastRefreshedAt: new Date().toISOString(),
  };
}
