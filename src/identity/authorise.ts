import { KeygateError } from '../errors.ts';
import { ALL_INTEGRATIONS_SCOPE, scopeFor, type ProtectedResources } from './resources.ts';
import type { VerifiedToken } from './tokens.ts';

/**
 * May this verified token call `/proxy/{tenant}/{integration}`? Per request, as the
 * answer depends on the path (a token is cached once for all paths):
 * - audience (RFC 8707, MCP "token audience binding"): `aud` holds one of the issuer's
 *   `audience` values (default: Keygate's public URL), or this path's resource URL
 *   exactly, else 401 `invalid_token`;
 * - tenant: the token's must be the path's, else 403 `forbidden` (no new token fixes it,
 *   so no step-up is suggested);
 * - scope: `keygate:proxy` or `keygate:proxy:{integration}`, else 403
 *   `insufficient_scope`, which a client answers by asking for that scope (step-up).
 * Returns the error to throw, or undefined; the challenge headers are the caller's to add.
 */
export function refusalFor(
  token: VerifiedToken,
  tenant: string,
  integration: string,
  resources: ProtectedResources,
  now: number,
): KeygateError | undefined {
  if (token.expiresAt <= now) {
    return new KeygateError('invalid_token', { message: 'The access token has expired.' });
  }
  if (!isForUs(token, tenant, integration, resources)) {
    return new KeygateError('invalid_token', {
      message: 'The access token is for another audience (aud) than this resource.',
    });
  }
  if (token.tenant !== tenant) {
    return new KeygateError('forbidden', { message: "The access token's tenant is not this path's tenant." });
  }
  const { scopes } = token;
  if (!scopes.has(ALL_INTEGRATIONS_SCOPE) && !scopes.has(scopeFor(integration))) {
    return new KeygateError('insufficient_scope');
  }
  return undefined;
}

function isForUs(
  token: VerifiedToken,
  tenant: string,
  integration: string,
  resources: ProtectedResources,
): boolean {
  const { audience } = token.issuer;
  for (const aud of token.audiences) {
    if (audience === undefined ? aud === resources.base : audience.has(aud)) return true;
  }
  const resource = resources.resourceOf(tenant, integration);
  return token.audiences.includes(resource);
}
