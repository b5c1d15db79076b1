import type { FastifyInstance } from 'fastify';
import type { AdminDeps } from '../deps.ts';
import { adminDoc, adminErrors, NoContent } from '../../http/schemas.ts';
import { accountParam, credentialRoutes, type CredentialRouteParams } from './schemas.ts';

/** DELETE /v1/tenants/{tenant}/credentials/{integration}[/accounts/{account}]: every version, for good. 204. */
export function deleteCredential(app: FastifyInstance, { store, schedule, events }: AdminDeps): void {
  for (const { url, params } of credentialRoutes()) {
    const schema = {
      ...adminDoc('Delete a credential with every version'),
      params,
      response: { 204: NoContent, ...adminErrors('invalid_name', 'credential_not_found', 'vault_error') },
    };
    app.delete<{ Params: CredentialRouteParams }>(url, { schema }, async (request, reply) => {
      const { tenant, integration } = request.params;
      const account = accountParam(request.params);
      await store.delete(tenant, integration, account);
      schedule?.cancel(tenant, integration, account);
      events.publish('credential-deleted', { tenant, integration, account });
      return reply.code(204).send();
    });
  }
}
