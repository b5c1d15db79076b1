import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { credentialRef, type CredentialRef } from '../../credentials/ref.ts';

// Names are checked by assertNames (invalid_name), not by the route schema, so that a
// bad name is a 400 with a stable code and never reaches a Vault path.
export const CredentialParams = Type.Object({ tenant: Type.String(), integration: Type.String() });
export type CredentialParams = Static<typeof CredentialParams>;
export const AccountParams = Type.Object({
  tenant: Type.String(),
  integration: Type.String(),
  account: Type.String({ description: "One of the tenant's accounts at the integration." }),
});
/** Params of a credential route, with or without the account (`default` without). */
export type CredentialRouteParams = CredentialParams & { account?: string };

/**
 * Each credential route twice: `.../credentials/{integration}{suffix}` (account `default`)
 * and `.../credentials/{integration}/accounts/{account}{suffix}`.
 */
export function credentialRoutes(suffix = ''): Array<{ url: string; params: TSchema }> {
  return [
    { url: `/tenants/:tenant/credentials/:integration${suffix}`, params: CredentialParams },
    { url: `/tenants/:tenant/credentials/:integration/accounts/:account${suffix}`, params: AccountParams },
  ];
}

/** The credential a route names (account `default` on the route without one); names not yet checked. */
export const refOf = (params: CredentialRouteParams): CredentialRef =>
  credentialRef(params.tenant, params.integration, params.account);
export const TenantParams = Type.Object({ tenant: Type.String() });
export type TenantParams = Static<typeof TenantParams>;

export const PutCredentialBody = Type.Object(
  {
    accessToken: Type.Optional(Type.String({ minLength: 1, maxLength: 16384 })),
    refreshToken: Type.Optional(Type.String({ minLength: 1, maxLength: 16384 })),
    expiresIn: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 * 365 * 86400 })),
    expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
    scopes: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 256 })),
    tokenType: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    apiKey: Type.Optional(Type.String({ minLength: 1, maxLength: 16384 })),
    clientId: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1024,
        description: 'oauth2_client_credentials: the tenant’s own client (else the integration’s).',
      }),
    ),
    clientSecret: Type.Optional(Type.String({ minLength: 1, maxLength: 16384 })),
  },
  { additionalProperties: false },
);
export type PutCredentialBody = Static<typeof PutCredentialBody>;
