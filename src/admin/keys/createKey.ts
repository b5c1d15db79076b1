import type { FastifyInstance } from 'fastify';
import type { AdminDeps } from '../deps.ts';
import { invalidFields } from '../../http/invalid-fields.ts';
import { adminDoc, adminErrors } from '../../http/schemas.ts';
import { CreatedKey, CreateKeyBody } from './schemas.ts';

/** POST /v1/keys: a Keygate key scoped to tenants, integrations and accounts; its secret is shown only here. */
export function createKey(app: FastifyInstance, { keys, config, events }: AdminDeps): void {
  app.post<{ Body: CreateKeyBody }>(
    '/keys',
    {
      schema: {
        ...adminDoc('Create a Keygate key', 'The key secret is in this answer only.'),
        body: CreateKeyBody,
        response: {
          201: CreatedKey,
          ...adminErrors('bad_request', 'validation_failed', 'payload_too_large', 'vault_error'),
        },
      },
    },
    async (request, reply) => {
      const { name, tenants, integrations, accounts, limits } = request.body;
      const unknown = (integrations ?? []).filter((i) => !config.integrations[i]);
      if (unknown.length > 0) {
        throw invalidFields([
          `body.integrations: must name configured integrations (${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not)`,
        ]);
      }
      const created = await keys.create({
        tenants,
        ...(name === undefined ? {} : { name }),
        ...(integrations === undefined ? {} : { integrations }),
        ...(accounts === undefined ? {} : { accounts }),
        ...(limits === undefined ? {} : { limits }),
      });
      const { id: keyId, tenants: scopeTenants, integrations: scopeIntegrations } = created;
      events.publish('key-created', {
        keyId,
        name: created.name,
        tenants: scopeTenants,
        integrations: scopeIntegrations,
        accounts: created.accounts,
      });
      return reply.code(201).header('cache-control', 'no-store').send(created);
    },
  );
}
