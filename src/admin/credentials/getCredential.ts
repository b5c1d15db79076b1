import type { FastifyInstance } from 'fastify';
import type { AdminDeps } from '../deps.ts';
import { adminDoc, adminErrors } from '../../http/schemas.ts';
import { CredentialMetadataSchema, CredentialParams } from './schemas.ts';

/** GET /v1/tenants/{tenant}/credentials/{integration}: metadata only, never the secret. */
export function getCredential(app: FastifyInstance, { store }: AdminDeps): void {
  app.get<{ Params: CredentialParams }>(
    '/tenants/:tenant/credentials/:integration',
    {
      schema: {
        ...adminDoc('A credential’s metadata (never the secret)'),
        params: CredentialParams,
        response: {
          200: CredentialMetadataSchema,
          ...adminErrors('invalid_name', 'credential_not_found', 'vault_error'),
        },
      },
    },
    (request) => store.metadata(request.params.tenant, request.params.integration),
  );
}
