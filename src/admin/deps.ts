import type { Budgets } from '../budgets/budgets.ts';
import type { Config } from '../config/schema.ts';
import type { Inventory } from '../credentials/fleet-index.ts';
import type { CredentialStore } from '../credentials/store.ts';
import type { CallerKeys } from '../keys/key-store.ts';
import type { EventPublisher } from '../events/bus.ts';
import type { ConnectFlow } from '../oauth/connect.ts';
import type { Logger } from '../observability/logger.ts';
import type { Refresher } from '../refresh/refresher.ts';
import type { RefreshScheduler } from '../refresh/scheduler.ts';

/** What admin routes are built from. */
export interface AdminDeps {
  config: Readonly<Config>;
  logger: Logger;
  store: CredentialStore;
  /** The fleet's credentials in memory, behind GET /v1/credentials and GET /v1/inventory. */
  inventory: Inventory;
  /** Told about stored and deleted credentials, so this replica's refresh schedule follows at once. */
  schedule?: Pick<RefreshScheduler, 'track' | 'cancel'> & Partial<Pick<RefreshScheduler, 'dueAt'>>;
  keys: CallerKeys;
  connect: ConnectFlow;
  /** POST .../refresh: the same single-flight, leased refresh as every other. */
  refresher: Pick<Refresher, 'refresh'>;
  events: EventPublisher;
  /** This replica's learned upstream budgets, behind GET /v1/budgets; none without it. */
  budgets?: Pick<Budgets, 'list' | 'replica'> | undefined;
}
