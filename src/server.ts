import { Type } from '@sinclair/typebox';
import Fastify, { type FastifyInstance, type RouteOptions } from 'fastify';
import type { Config } from './config/schema.ts';
import { clientErrorHandler, frameworkErrors } from './http/framework-errors.ts';
import { drainOnClose } from './http/drain.ts';
import { FrontDoor } from './http/front-door.ts';
import { connectionLimits } from './http/limits.ts';
import { installErrorHandling } from './http/error-handler.ts';
import { registerOpenApi } from './http/openapi.ts';
import { requestIdOf } from './http/request-id.ts';
import { KeygateError } from './errors.ts';
import type { Logger } from './observability/logger.ts';
import type { VaultSession } from './vault/session.ts';

const SLASH = 0x2f;
const absoluteForm = () =>
  new KeygateError('bad_request', { message: 'The request target must be a path (origin-form), not a URL.' });

export interface ServerDeps {
  config: Readonly<Config>;
  logger: Logger;
  vault: VaultSession;
  /** Sees every route as it is registered (the OpenAPI test checks each is documented). */
  onRoute?: ((route: RouteOptions) => void) | undefined;
  /** Where a raw handler (the proxy's lean path) may take requests before Fastify's router. */
  front?: FrontDoor | undefined;
}

const Status = (description: string, extra = {}) =>
  Type.Object({ status: Type.String(), ...extra }, { description });

/** The Fastify instance with ops routes and error handling; features register onto it. */
export async function buildServer({
  config,
  logger,
  vault,
  onRoute,
  front = new FrontDoor(),
}: ServerDeps): Promise<FastifyInstance> {
  const limits = connectionLimits(config.server);
  const drain = drainOnClose();
  const app = Fastify({
    logger: false, // Keygate writes its own lines through winston.
    bodyLimit: config.proxy.maxBodyBytes,
    requestIdHeader: false,
    genReqId: requestIdOf,
    serverFactory: front.serverFactory,
    ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: false } },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    ...limits,
    http: { ...limits.http, ServerResponse: drain.ServerResponse },
    frameworkErrors: frameworkErrors(logger),
    clientErrorHandler: clientErrorHandler(logger),
  });
  app.server.maxConnections = config.server.maxConnections;
  app.addHook('preClose', (done) => {
    front.close();
    drain.begin(app.server);
    done();
  });
  if (onRoute) app.addHook('onRoute', onRoute);
  // Before any route: @fastify/swagger documents only the routes registered after it.
  await registerOpenApi(app);
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    // Absolute-form (`GET http://host/...`) is for forward proxies; Keygate is not one.
    if (request.raw.url?.charCodeAt(0) !== SLASH) done(absoluteForm());
    else done();
  });
  installErrorHandling(app, logger);
  // Only JSON bodies: a text/plain body would reach a route as a string and fail its
  // schema, a more confusing answer than "wrong content type".
  app.removeContentTypeParser('text/plain');
  // Clients often send `content-type: application/json` on a DELETE with no body.
  const json = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') done(null, undefined);
    else json(request, body.toString(), done);
  });

  app.get(
    '/healthz',
    { schema: { tags: ['ops'], summary: 'Liveness', response: { 200: Status('Alive.') } } },
    async () => ({ status: 'ok' }),
  );
  const readyzSchema = {
    tags: ['ops'],
    summary: 'Readiness: Vault reachable, unsealed and accepting Keygate',
    response: {
      200: Status('Ready.'),
      503: Status('Not ready; Retry-After is set.', { reason: Type.Optional(Type.String()) }),
    },
  };
  app.get('/readyz', { schema: readyzSchema }, async (_request, reply) => {
    const readiness = await vault.readiness();
    if (readiness.ready) return { status: 'ready' };
    reply.code(503).header('retry-after', '5');
    return { status: 'not_ready', reason: readiness.reason };
  });
  return app;
}
