import type { FastifyInstance } from 'fastify';
import { adminRoutes } from './admin/index.ts';
import { Budgets } from './budgets/budgets.ts';
import { OwnLimits } from './budgets/own-limits.ts';
import type { Config } from './config/schema.ts';
import { consoleRoutes } from './console/plugin.ts';
import { Inventory, INVENTORY_MAX_AGE_MS } from './credentials/fleet-index.ts';
import { createCredentialStore, type CredentialStore } from './credentials/store.ts';
import { EventBus } from './events/bus.ts';
import { EventLog } from './events/event-log.ts';
import { logEvents } from './events/log-events.ts';
import { replicaId } from './events/replica.ts';
import { eventRoutes } from './events/routes.ts';
import { WebhookSender } from './events/webhooks/sender.ts';
import { absentAndOutage } from './cache/options.ts';
import type { FleetSync } from './fleet/fleet-sync.ts';
import { FrontDoor } from './http/front-door.ts';
import { metricsRoute } from './http/metrics-route.ts';
import { Callers } from './identity/authenticator.ts';
import { protectedResourceRoutes } from './identity/metadata-route.ts';
import { watchFleet } from './fleet/metrics.ts';
import { setupFleet } from './fleet/setup.ts';
import { CallerKeys } from './keys/key-store.ts';
import type { Logger } from './observability/logger.ts';
import { tracingOptions } from './observability/telemetry-options.ts';
import { startTracing, type Telemetry } from './observability/tracing.ts';
import { ConnectFlow } from './oauth/connect.ts';
import { oauthCallbackRoute } from './oauth/callback-route.ts';
import { proxyRoutes } from './proxy/plugin.ts';
import { ConnectLinks } from './reauth/links.ts';
import { ReauthResponder } from './reauth/responder.ts';
import { connectPageRoutes } from './reauth/routes.ts';
import { signInRoutes } from './reauth/sign-in-routes.ts';
import { Refresher } from './refresh/refresher.ts';
import { setupRefresh, type RefreshService } from './refresh/service.ts';
import { buildServer, type ServerDeps } from './server.ts';
import type { KvStore } from './vault/kv.ts';
import { watchVault } from './vault/metrics.ts';
import { VaultSession } from './vault/session.ts';

export interface Keygate {
  app: FastifyInstance;
  vault: VaultSession;
  kv: KvStore;
  store: CredentialStore;
  keys: CallerKeys;
  /** Who calls the proxy: Keygate keys and access tokens. */
  callers: Callers;
  refresher: Refresher;
  /** The refresh scheduler and the metrics registry. */
  refresh: RefreshService;
  /** The bus every part publishes its events to. */
  events: EventBus;
  webhooks: WebhookSender;
  /** Fast fleet agreement (the changes record); undefined when fleet.pollSeconds is 0. */
  fleet: FleetSync | undefined;
  /** Upstream budgets learned from the providers' answers, this replica's. */
  budgets: Budgets;
  /** The trace exporter (does nothing without telemetry.otlp.endpoint). */
  telemetry: Telemetry;
  /** The address the server listens on, e.g. http://127.0.0.1:8080. */
  url: string;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Sees every route as it is registered (for the OpenAPI completeness test). */
  onRoute?: ServerDeps['onRoute'];
  /** false: every proxied request goes through Fastify's router, not the lean path (the differential test). */
  leanPath?: boolean;
}

/** Wires every part together and starts listening. */
export async function startKeygate(
  config: Readonly<Config>,
  logger: Logger,
  options: StartOptions = {},
): Promise<Keygate> {
  const replica = replicaId(config.replica.id);
  // First: the Vault session's login is traced too.
  const telemetry = await startTracing(tracingOptions(config.telemetry, replica, logger));
  const vault = new VaultSession(config.vault, logger);
  await vault.start();
  const { kv, transit, store } = createCredentialStore(vault, config, logger);
  const keys = new CallerKeys({
    kv,
    cacheTtlMs: config.proxy.keyCacheTtlSeconds * 1000,
    cacheMaxEntries: config.proxy.keyCacheMaxEntries,
    maxStaleMs: config.cache.maxStaleSeconds * 1000,
    ...absentAndOutage(config.cache),
  });
  const refresher = new Refresher({ store, kv, config, logger });

  const events = new EventBus({ replica, logger });
  const eventLog = new EventLog({ size: config.events.bufferSize, bus: events });
  logEvents(events, logger);

  const front = new FrontDoor();
  const app = await buildServer({ config, logger, vault, onRoute: options.onRoute, front });
  const inventory = new Inventory({
    source: store,
    bus: events,
    refreshBufferMs: config.refresh.bufferSeconds * 1000,
    maxAgeMs: INVENTORY_MAX_AGE_MS,
  });
  // The scheduler's listings (at start, each resync) fill the inventory as they pass.
  const refresh = setupRefresh({ config, logger, refresher, source: inventory.tap(), events });
  const webhooks = new WebhookSender({
    webhooks: config.webhooks,
    delivery: config.events.delivery,
    bus: events,
    logger,
    registry: refresh.metrics.registry,
  });
  const connect = new ConnectFlow({ config, kv, transit, store, schedule: refresh.scheduler });
  const budgets = new Budgets({
    replica: events.replica,
    integrations: config.integrations,
    events,
    registry: refresh.metrics.registry,
  });
  await app.register(adminRoutes, {
    prefix: '/v1',
    config,
    logger,
    store,
    inventory,
    keys,
    connect,
    schedule: refresh.scheduler,
    events,
    budgets,
    refresher,
  });
  metricsRoute(app, refresh.metrics.registry, config.metrics.token);
  await app.register(eventRoutes, { prefix: '/v1', config, log: eventLog });
  await app.register(oauthCallbackRoute, { connect, events });
  const links = new ConnectLinks({ kv, ttlSeconds: config.reauth.linkTtlSeconds });
  await app.register(connectPageRoutes, { config, links, connect });
  await app.register(signInRoutes, { config, links, connect, kv, transit, logger });
  await app.register(consoleRoutes);
  const callers = new Callers({ config, keys, logger, metrics: refresh.metrics.registry });
  await app.register(protectedResourceRoutes, { config, callers });
  await app.register(proxyRoutes, {
    front: options.leanPath === false ? undefined : front,
    config,
    logger,
    store,
    callers,
    refresher,
    metrics: refresh.metrics.registry,
    reauth: new ReauthResponder({ config, links, logger }),
    budgets,
    limits: new OwnLimits(config.tenants, refresh.metrics.registry),
  });

  const url = await app.listen({ host: config.server.host, port: config.server.port });
  callers.listening(url);
  logger.info('keygate listening', {
    event: 'listening',
    url,
    integrations: Object.keys(config.integrations),
  });
  refresh.start();
  const fleet = setupFleet({
    config,
    kv,
    bus: events,
    logger,
    keys,
    store,
    scheduler: refresh.scheduler,
    resync: refresh.resync,
    inventory,
  });
  fleet?.start();
  watchFleet(refresh.metrics.registry, vault, fleet);
  watchVault(refresh.metrics.registry, vault);
  let closing: Promise<void> | undefined;
  return {
    app,
    vault,
    kv,
    store,
    keys,
    callers,
    refresher,
    refresh,
    events,
    webhooks,
    fleet,
    budgets,
    telemetry,
    url,
    close() {
      closing ??= (async () => {
        refresh.stop();
        fleet?.stop();
        // Idle connections close at once; busy ones get the grace period, then are cut
        // (a half-open connection that never sent a request would otherwise hold close).
        const cut = setTimeout(() => app.server.closeAllConnections(), config.server.shutdownGraceMs);
        budgets.close();
        await app.close();
        clearTimeout(cut);
        await refresher.close();
        await webhooks.close();
        await callers.close();
        vault.close();
        await telemetry.shutdown();
      })();
      return closing;
    },
  };
}
