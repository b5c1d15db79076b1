import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.ts';
import type { Refresher } from '../refresh/refresher.ts';
import { adminAuth } from './auth.ts';
import { refreshCredential } from './credentials/refreshCredential.ts';

export interface RefreshAdminDeps {
  config: Readonly<Config>;
  refresher: Pick<Refresher, 'refresh'>;
}

/** The operator's side of refresh under /v1, behind the admin token: force one. */
export async function refreshAdminRoutes(app: FastifyInstance, deps: RefreshAdminDeps): Promise<void> {
  app.addHook('onRequest', adminAuth(deps.config.admin.token));
  refreshCredential(app, deps);
}
