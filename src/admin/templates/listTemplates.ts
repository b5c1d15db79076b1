import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { IntegrationSchema } from '../../config/schema.ts';
import { TEMPLATE_ABOUT, TEMPLATES, TemplateAboutSchema } from '../../config/templates.ts';
import { adminDoc, adminErrors } from '../../http/schemas.ts';
import type { AdminDeps } from '../deps.ts';

const TemplateSchema = Type.Composite([
  Type.Object({ name: Type.String() }),
  TemplateAboutSchema,
  Type.Object({
    config: Type.Partial(IntegrationSchema, {
      description: 'What `template: NAME` puts under the integration before its own fields.',
    }),
  }),
]);

/** GET /v1/templates: the built-in catalogue (no secrets in it: a template has none). */
export function listTemplates(app: FastifyInstance, _deps: AdminDeps): void {
  const templates = Object.keys(TEMPLATES)
    .sort()
    .map((name) => ({ name, ...TEMPLATE_ABOUT[name], config: TEMPLATES[name] }));
  app.get(
    '/templates',
    {
      schema: {
        ...adminDoc('List the built-in integration templates', 'Each with where its facts were checked.'),
        response: { 200: Type.Object({ templates: Type.Array(TemplateSchema) }), ...adminErrors() },
      },
    },
    () => ({ templates }),
  );
}
