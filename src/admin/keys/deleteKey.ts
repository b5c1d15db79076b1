import type { FastifyInstance } from 'fastify';
import type { AdminDeps } from '../deps.ts';
import { KeyParams } from './schemas.ts';

/** DELETE /v1/keys/{id}: the key stops working at once here, within the key cache TTL elsewhere. 204. */
export function deleteKey(app: FastifyInstance, { keys }: AdminDeps): void {
  app.delete<{ Params: KeyParams }>(
    '/keys/:id',
    { schema: { params: KeyParams } },
    async (request, reply) => {
      await keys.revoke(request.params.id);
      return reply.code(204).send();
    },
  );
}
