import type { FastifyInstance } from 'fastify';
import type { AdminDeps } from '../deps.ts';
import { CredentialMetadataSchema } from '../../http/credential-schema.ts';
import { adminDoc, adminErrors } from '../../http/schemas.ts';
import { credentialRoutes, refOf, type CredentialRouteParams } from './schemas.ts';

/** GET /v1/tenants/{tenant}/credentials/{integration}[/accounts/{account}]: metadata only, never the secret. */
export function getCredential(app: FastifyInstance, { store }: AdminDeps): void {
  for (const { url, params } of credentialRoutes()) {
    app.get<{ Params: CredentialRouteParams }>(
      url,
      {
        schema: {
          ...adminDoc('A credential’s metadata (never the secret)'),
          params,
          response: {
            200: CredentialMetadataSchema,
            ...adminErrors('invalid_name', 'credential_not_found', 'vault_error'),
          },
        },
      },
      (request) => store.metadata(refOf(request.params)),
    );
  }
}
