import type { FastifyInstance } from 'fastify';
import type { AdminDeps } from '../deps.ts';
import { adminDoc, adminErrors, NoContent } from '../../http/schemas.ts';
import { KeyParams } from './schemas.ts';

/** DELETE /v1/keys/{id}: the key stops working at once here, within the key cache TTL elsewhere. 204. */
export function deleteKey(app: FastifyInstance, { keys, events }: AdminDeps): void {
  app.delete<{ Params: KeyParams }>(
    '/keys/:id',
    {
      schema: {
        ...adminDoc('Revoke a Keygate key'),
        params: KeyParams,
        response: { 204: NoContent, ...adminErrors('validation_failed', 'key_not_found', 'vault_error') },
      },
    },
    async (request, reply) => {
      const revoked = await keys.revoke(request.params.id);
      events.publish('key-revoked', {
        keyId: request.params.id,
        name: revoked?.name,
        tenants: revoked?.tenants,
        integrations: revoked?.integrations,
        accounts: revoked?.accounts,
      });
      return reply.code(204).send();
    },
  );
}
