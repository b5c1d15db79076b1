import type { AuthConfig } from '../config/schema.ts';
import type { CredentialSecret } from '../credentials/types.ts';

/**
 * The integration's auth with the tenant's own client in place of the configured one,
 * when the credential holds one (client credentials stored with clientId/clientSecret).
 */
export function authFor(auth: AuthConfig, secret: CredentialSecret): AuthConfig {
  if (secret.clientId === undefined) return auth;
  const own: AuthConfig = { ...auth, clientId: secret.clientId };
  if (secret.clientSecret === undefined) delete own.clientSecret;
  else own.clientSecret = secret.clientSecret;
  return own;
}
