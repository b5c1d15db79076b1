import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AdminDeps } from '../deps.ts';
import { CredentialMetadataSchema } from '../../http/credential-schema.ts';
import { adminDoc, adminErrors } from '../../http/schemas.ts';
import { TenantParams } from './schemas.ts';

/** GET /v1/tenants/{tenant}/credentials: the tenant's credentials, metadata only. */
export function listCredentials(app: FastifyInstance, { store }: AdminDeps): void {
  app.get<{ Params: TenantParams }>(
    '/tenants/:tenant/credentials',
    {
      schema: {
        ...adminDoc('The tenant’s credentials, metadata only'),
        params: TenantParams,
        response: {
          200: Type.Object({ credentials: Type.Array(CredentialMetadataSchema) }),
          ...adminErrors('invalid_name', 'vault_error'),
        },
      },
    },
    async (request) => ({ credentials: await store.list(request.params.tenant) }),
  );
}
