import { Type, type Static } from '@sinclair/typebox';

// Names are checked by assertNames (invalid_name), not by the route schema, so that a
// bad name is a 400 with a stable code and never reaches a Vault path.
export const CredentialParams = Type.Object({ tenant: Type.String(), integration: Type.String() });
export type CredentialParams = Static<typeof CredentialParams>;
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
  },
  { additionalProperties: false },
);
export type PutCredentialBody = Static<typeof PutCredentialBody>;

export const CredentialMetadataSchema = Type.Object({
  tenant: Type.String(),
  integration: Type.String(),
  authType: Type.String(),
  status: Type.String(),
  expiresAt: Type.Union([Type.String(), Type.Null()]),
  scopes: Type.Array(Type.String()),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  lastRefreshedAt: Type.Union([Type.String(), Type.Null()]),
});
