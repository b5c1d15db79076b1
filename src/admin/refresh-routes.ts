import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.ts';
import type { EventLog } from '../observability/event-log.ts';
import type { Refresher } from '../refresh/refresher.ts';
import { adminAuth } from './auth.ts';
import { refreshCredential } from './credentials/refreshCredential.ts';
import { getEvents } from './events/getEvents.ts';

export interface RefreshAdminDeps {
  config: Readonly<Config>;
  refresher: Pick<Refresher, 'refresh'>;
  events: EventLog;
}

/** The operator's side of refresh under /v1, behind the admin token: force one, watch them all. */
export async function refreshAdminRoutes(app: FastifyInstance, deps: RefreshAdminDeps): Promise<void> {
  app.addHook('onRequest', adminAuth(deps.config.admin.token));
  refreshCredential(app, deps);
  getEvents(app, { events: deps.events, heartbeatMs: deps.config.events.heartbeatSeconds * 1000 });
}
