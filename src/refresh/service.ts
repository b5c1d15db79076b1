import type { Config } from '../config/schema.ts';
import type { CredentialListing } from '../credentials/types.ts';
import type { EventPublisher } from '../events/bus.ts';
import type { Logger } from '../observability/logger.ts';
import { Metrics } from '../observability/metrics.ts';
import { REFRESH_EVENTS, type RefreshEvent } from './events.ts';
import { watchRefresh } from './metrics.ts';
import type { Refresher } from './refresher.ts';
import { ScheduleResync } from './resync.ts';
import { RefreshScheduler } from './scheduler.ts';

export interface RefreshServiceDeps {
  config: Readonly<Config>;
  logger: Logger;
  refresher: Refresher;
  source: { listAll(): Promise<CredentialListing[]> };
  events: EventPublisher;
}

export interface RefreshService {
  scheduler: RefreshScheduler;
  metrics: Metrics;
  resync: ScheduleResync;
  /** Loads the schedule (in the background while Vault cannot list). */
  start(): void;
  stop(): void;
}

/**
 * Everything around the Refresher that operators see: the scheduler, its events on the
 * bus (a permanent failure also as needs-reauth), POST .../refresh, and the metrics on
 * GET /metrics.
 */
export function setupRefresh({
  config,
  logger,
  refresher,
  source,
  events,
}: RefreshServiceDeps): RefreshService {
  const scheduler = new RefreshScheduler({ refresher, source, config, logger });
  for (const name of REFRESH_EVENTS) {
    scheduler.on(name, (event: RefreshEvent) => {
      events.publish(name, event);
      if (name === 'refresh-failed' && event.permanent) {
        const { tenant, integration, account, time, error } = event;
        events.publish('needs-reauth', {
          tenant,
          integration,
          account,
          time,
          reason: 'refresh_failed',
          error,
        });
      }
    });
  }
  const metrics = new Metrics();
  watchRefresh(metrics.registry, { scheduler, unpersisted: () => refresher.unpersisted });
  const resync = new ScheduleResync({
    scheduler,
    source,
    // With the fleet poll on, the changes record keeps the schedule current: a full re-list is a safety net.
    intervalMs:
      (config.fleet.pollSeconds > 0 ? config.fleet.fullResyncSeconds : config.refresh.resyncSeconds) * 1000,
    logger,
  });
  return {
    scheduler,
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
