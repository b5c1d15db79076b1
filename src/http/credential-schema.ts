import { Type } from '@sinclair/typebox';

/** A credential's metadata as the admin API and the OAuth callback answer it: never a secret. */
export const CredentialMetadataSchema = Type.Object({
  tenant: Type.String(),
  integration: Type.String(),
  account: Type.String(),
  authType: Type.String(),
  status: Type.String(),
  expiresAt: Type.Union([Type.String(), Type.Null()]),
  scopes: Type.Array(Type.String()),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  lastRefreshedAt: Type.Union([Type.String(), Type.Null()]),
});
