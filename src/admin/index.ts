import type { FastifyInstance } from 'fastify';
import { adminAuth } from '../http/admin-auth.ts';
import { listBudgets } from './budgets/listBudgets.ts';
import { deleteCredential } from './credentials/deleteCredential.ts';
import { getCredential } from './credentials/getCredential.ts';
import { listCredentials } from './credentials/listCredentials.ts';
import { listInventory } from './credentials/listInventory.ts';
import { putCredential } from './credentials/putCredential.ts';
import { refreshCredential } from './credentials/refreshCredential.ts';
import { startConnect } from './connect/startConnect.ts';
import type { AdminDeps } from './deps.ts';
import { createKey } from './keys/createKey.ts';
import { deleteKey } from './keys/deleteKey.ts';
import { listIntegrations } from './integrations/listIntegrations.ts';
import { listKeys } from './keys/listKeys.ts';
import { listTemplates } from './templates/listTemplates.ts';
import { listTenants } from './tenants/listTenants.ts';

/** The admin API under /v1, behind the admin token (encapsulated: the hook stays in here). */
export async function adminRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  app.addHook('onRequest', adminAuth(deps.config.admin.token));
  putCredential(app, deps);
  getCredential(app, deps);
  listCredentials(app, deps);
  listInventory(app, deps);
  deleteCredential(app, deps);
  refreshCredential(app, deps);
  createKey(app, deps);
  deleteKey(app, deps);
  listKeys(app, deps);
  listTenants(app, deps);
  listIntegrations(app, deps);
  listTemplates(app, deps);
  startConnect(app, deps);
  listBudgets(app, deps);
}
