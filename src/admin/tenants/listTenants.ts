import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { adminDoc, adminErrors } from '../../http/schemas.ts';
import type { AdminDeps } from '../deps.ts';

/** GET /v1/tenants: the tenants that hold at least one credential (Vault's own folder listing). */
export function listTenants(app: FastifyInstance, { store }: AdminDeps): void {
  app.get(
    '/tenants',
    {
      schema: {
        ...adminDoc(
          'List tenants',
          'Every tenant holding at least one credential, by name; a tenant exists by storing one.',
        ),
        response: {
          200: Type.Object({ tenants: Type.Array(Type.Object({ name: Type.String() })) }),
          ...adminErrors('vault_error'),
        },
      },
    },
    async () => ({ tenants: (await store.tenants()).sort().map((name) => ({ name })) }),
  );
}
