import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { adminDoc, adminErrors } from '../../http/schemas.ts';
import type { AdminDeps } from '../deps.ts';
import { integrationView, IntegrationViewSchema } from './view.ts';

/** GET /v1/integrations: the configured integrations, non-secret fields only. */
export function listIntegrations(app: FastifyInstance, { config }: AdminDeps): void {
  const integrations = Object.entries(config.integrations)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, integration]) => integrationView(name, integration));
  app.get(
    '/integrations',
    {
      schema: {
        ...adminDoc(
          'List configured integrations',
          'Non-secret fields only: no client secret, no header values.',
        ),
        response: { 200: Type.Object({ integrations: Type.Array(IntegrationViewSchema) }), ...adminErrors() },
      },
    },
    () => ({ integrations }),
  );
}
