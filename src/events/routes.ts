import type { FastifyInstance } from 'fastify';
import { adminAuth } from '../http/admin-auth.ts';
import type { Config } from '../config/schema.ts';
import type { EventLog } from './event-log.ts';
import { sseRoute } from './sse-route.ts';

/** GET /v1/events behind the admin token (encapsulated: the hook stays in here). */
export async function eventRoutes(
  app: FastifyInstance,
  { config, log }: { config: Readonly<Config>; log: EventLog },
): Promise<void> {
  app.addHook('onRequest', adminAuth(config.admin.token));
  sseRoute(app, { events: log, heartbeatMs: config.events.heartbeatSeconds * 1000 });
}
