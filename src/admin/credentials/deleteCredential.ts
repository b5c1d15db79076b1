import type { FastifyInstance } from 'fastify';
import type { AdminDeps } from '../deps.ts';
import { CredentialParams } from './schemas.ts';

/** DELETE /v1/tenants/{tenant}/credentials/{integration}: every version, for good. 204. */
export function deleteCredential(app: FastifyInstance, { store, schedule, events }: AdminDeps): void {
  app.delete<{ Params: CredentialParams }>(
    '/tenants/:tenant/credentials/:integration',
    { schema: { params: CredentialParams } },
    async (request, reply) => {
      const { tenant, integration } = request.params;
      await store.delete(tenant, integration);
      schedule?.cancel(tenant, integration);
      events.publish('credential-deleted', { tenant, integration });
      return reply.code(204).send();
    },
  );
}
