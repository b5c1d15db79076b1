import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AdminDeps } from '../deps.ts';
import { CredentialMetadataSchema, TenantParams } from './schemas.ts';

/** GET /v1/tenants/{tenant}/credentials: the tenant's credentials, metadata only. */
export function listCredentials(app: FastifyInstance, { store }: AdminDeps): void {
  app.get<{ Params: TenantParams }>(
    '/tenants/:tenant/credentials',
    {
      schema: {
        params: TenantParams,
        response: { 200: Type.Object({ credentials: Type.Array(CredentialMetadataSchema) }) },
      },
    },
    async (request) => ({ credentials: await store.list(request.params.tenant) }),
  );
}
