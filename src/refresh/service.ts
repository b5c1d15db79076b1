import type { FastifyInstance } from 'fastify';
import { refreshAdminRoutes } from '../admin/refresh-routes.ts';
import type { Config } from '../config/schema.ts';
import type { CredentialListing } from '../credentials/types.ts';
import { EventLog } from '../observability/event-log.ts';
import type { Logger } from '../observability/logger.ts';
import { Metrics } from '../observability/metrics.ts';
import { REFRESH_EVENTS, type RefreshEvent } from './events.ts';
import type { Refresher } from './refresher.ts';
import { ScheduleResync } from './resync.ts';
import { RefreshScheduler } from './scheduler.ts';

export interface RefreshServiceDeps {
  app: FastifyInstance;
  config: Readonly<Config>;
  logger: Logger;
  refresher: Refresher;
  source: { listAll(): Promise<CredentialListing[]> };
}

export interface RefreshService {
  scheduler: RefreshScheduler;
  events: EventLog;
  metrics: Metrics;
  resync: ScheduleResync;
  /** Loads the schedule (in the background while Vault cannot list). */
  start(): void;
  stop(): void;
}

/**
 * Everything around the Refresher that operators see: the scheduler, the event
 * buffer behind GET /v1/events, POST .../refresh, the metrics on GET /metrics, and a
 * log line per lifecycle event.
 */
export async function setupRefresh({
  app,
  config,
  logger,
  refresher,
  source,
}: RefreshServiceDeps): Promise<RefreshService> {
  const scheduler = new RefreshScheduler({ refresher, source, config, logger });
  const events = new EventLog({ size: config.events.bufferSize });
  events.follow(scheduler);
  const metrics = new Metrics();
  metrics.watchRefresh({ scheduler, unpersisted: () => refresher.unpersisted });
  for (const name of REFRESH_EVENTS) {
    // A million credentials scheduled at start would be a million info lines.
    const level = name === 'refresh-scheduled' ? 'debug' : name === 'refresh-failed' ? 'warn' : 'info';
    scheduler.on(name, (event: RefreshEvent) => logger.log(level, name, { event: name, ...event }));
  }
  const resync = new ScheduleResync({
    scheduler,
    source,
    intervalMs: config.refresh.resyncSeconds * 1000,
    logger,
  });
  await app.register(refreshAdminRoutes, { prefix: '/v1', config, refresher, events });
  metrics.route(app);
  return {
    scheduler,
    events,
    metrics,
    resync,
    start: () => {
      scheduler.startInBackground();
      resync.start();
    },
    stop: () => {
      resync.stop();
      scheduler.stop();
    },
  };
}
