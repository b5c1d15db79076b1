import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { adminDoc, adminErrors } from '../../http/schemas.ts';
import type { AdminDeps } from '../deps.ts';
import { KeyInfoSchema } from './schemas.ts';

/** GET /v1/keys: every Keygate key with its scope (tenants, integrations); never a secret or digest. */
export function listKeys(app: FastifyInstance, { keys }: AdminDeps): void {
  app.get(
    '/keys',
    {
      schema: {
        ...adminDoc('List Keygate keys', 'Oldest first. Ids, names and scopes only.'),
        response: {
          200: Type.Object({ keys: Type.Array(KeyInfoSchema) }),
          ...adminErrors('vault_error'),
        },
      },
    },
    async () => ({ keys: await keys.list() }),
  );
}
