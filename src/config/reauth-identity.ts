import { Type, type Static } from '@sinclair/typebox';
import { MUST_BE_HTTPS, plainHttp } from './tls.ts';

const Url = Type.String({ pattern: '^https?://[^\\s]+$' });
const Strict = { additionalProperties: false } as const;

/**
 * `reauth.identity`: how a connect link is bound to the tenant's user. Either the embedding
 * application vouches for its signed-in user (`url` + `secret`, an HMAC-signed assertion), or
 * Keygate signs the browser in with an OpenID provider itself (`oidc`) and goes on only when
 * the ID token's `sub` is the user the link was made for. Without it, a confirmation code.
 */
export const ReauthIdentitySchema = Type.Object(
  {
    url: Type.Optional(Url),
    secret: Type.Optional(Type.String({ minLength: 32 })),
    oidc: Type.Optional(
      Type.Object(
        {
          /** The issuer whose `sub` identifies callers (the one their access tokens come from). */
          issuer: Url,
          clientId: Type.String({ minLength: 1 }),
          /** Absent: a public client (PKCE only, `token_endpoint_auth_method: none`). */
          clientSecret: Type.Optional(Type.String({ minLength: 1 })),
        },
        Strict,
      ),
    ),
  },
  Strict,
);

export type ReauthIdentity = Static<typeof ReauthIdentitySchema>;

/** What the schema cannot say: one mode, its fields together, an issuer reached over TLS. */
export function reauthIdentityProblems(identity: ReauthIdentity | undefined): string[] {
  if (!identity) return [];
  const at = 'reauth.identity';
  const vouching = identity.url !== undefined || identity.secret !== undefined;
  if (vouching && identity.oidc) {
    return [
      `${at}: set url and secret (the application vouches) or oidc (Keygate signs the user in), not both`,
    ];
  }
  if (!vouching && !identity.oidc) return [`${at}: set url and secret, or oidc`];
  if (vouching && (identity.url === undefined || identity.secret === undefined)) {
    return [`${at}: url and secret go together`];
  }
  const issuer = identity.oidc && new URL(identity.oidc.issuer);
  // The issuer is the root of trust for the binding: over plain HTTP anyone on the path could
  // answer for it (discovery, keys, tokens).
  if (issuer && plainHttp(issuer)) {
    return [`${at}.oidc.issuer: ${MUST_BE_HTTPS}`];
  }
  return [];
}
