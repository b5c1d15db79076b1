import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';

/** Where things are, for a program or a person with curl who asks `GET /`. */
const INDEX = {
  name: 'keygate',
  console: '/console',
  openapi: '/openapi.json',
  proxy: '/proxy/{tenant}/{integration}/{path}',
  admin: '/v1',
  events: '/v1/events',
  health: '/healthz',
  ready: '/readyz',
  metrics: '/metrics',
} as const;

/**
 * `GET /`: a browser (it asks for HTML) is sent to the console, which is what a person who
 * opens Keygate's address wants; anything else gets a small JSON index of the routes, since
 * a redirect would show a curl user nothing. Neither holds a secret or needs a token.
 */
export function rootRoute(app: FastifyInstance): void {
  app.get(
    '/',
    {
      schema: {
        tags: ['console'],
        summary: 'Where things are: browsers go to the console, others get an index',
        response: {
          200: Type.Object(Object.fromEntries(Object.keys(INDEX).map((k) => [k, Type.String()])), {
            description: 'The index (for a client that does not ask for HTML).',
          }),
          302: { description: 'To /console, for a client that asks for HTML (a browser).' },
        },
      },
    },
    (request, reply) => {
      reply.header('vary', 'accept');
      if (/\btext\/html\b/.test(request.headers.accept ?? '')) return reply.redirect('/console', 302);
      return INDEX;
    },
  );
}
