import { Counter, Gauge, type Registry } from 'prom-client';
import type { CredentialStatus } from '../credentials/types.ts';
import type { RefreshEvent } from './events.ts';
import type { RefreshScheduler } from './scheduler.ts';

/** What the refresh metrics read; the scheduler and refresher provide it. */
export interface RefreshState {
  scheduler: Pick<RefreshScheduler, 'on' | 'statusCounts' | 'nextDueAt' | 'size' | 'shardCounts'>;
  /** Refreshed credentials not yet written to Vault. */
  unpersisted: () => number;
  now?: () => number;
}

const STATUSES: readonly CredentialStatus[] = ['active', 'refresh_failed', 'needs_reauth'];

/** Refreshes by outcome, credentials by status, and time until the next due refresh. */
export function watchRefresh(
  registry: Registry,
  { scheduler, unpersisted, now = Date.now }: RefreshState,
): void {
  const refreshes = new Counter({
    name: 'keygate_refreshes_total',
    help: 'Token refreshes by outcome: success, retry, transient_failure, permanent_failure, unpersisted.',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  for (const outcome of ['success', 'retry', 'transient_failure', 'permanent_failure', 'unpersisted']) {
    refreshes.inc({ outcome }, 0);
  }
  new Counter({
    name: 'keygate_refresh_shard_total',
    help: 'Due refreshes by sharding decision: owned (run here), deferred (another replica owns it), checked_fresh (its owner had refreshed it), taken_over (still due after the grace).',
    labelNames: ['decision'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const c = scheduler.shardCounts;
      this.inc({ decision: 'owned' }, c.owned);
      this.inc({ decision: 'deferred' }, c.deferred);
      this.inc({ decision: 'checked_fresh' }, c.checkedFresh);
      this.inc({ decision: 'taken_over' }, c.takenOver);
    },
  });
  scheduler.on('refresh-success', () => refreshes.inc({ outcome: 'success' }));
  scheduler.on('refresh-retry', () => refreshes.inc({ outcome: 'retry' }));
  scheduler.on('refresh-failed', (event: RefreshEvent) => {
    const outcome =
      event.persisted === false ? 'unpersisted' : event.permanent ? 'permanent_failure' : 'transient_failure';
    refreshes.inc({ outcome });
  });
  new Gauge({
    name: 'keygate_credentials',
    help: 'OAuth credentials known to the refresh scheduler, by status.',
    labelNames: ['status'] as const,
    registers: [registry],
    collect() {
      for (const status of STATUSES) this.set({ status }, scheduler.statusCounts[status]);
    },
  });
  new Gauge({
    name: 'keygate_refresh_scheduled',
    help: 'Credentials waiting in the refresh schedule.',
    registers: [registry],
    collect() {
      this.set(scheduler.size);
    },
  });
  new Gauge({
    name: 'keygate_refresh_next_due_seconds',
    help: 'Seconds until the next refresh is due (0 when one is overdue; absent when none is scheduled).',
    registers: [registry],
    collect() {
      const due = scheduler.nextDueAt;
      if (due === undefined) this.reset();
      else this.set(Math.max(0, (due - now()) / 1000));
    },
  });
  new Gauge({
    name: 'keygate_refresh_unpersisted',
    help: 'Refreshed credentials served from memory because Vault has not taken them yet.',
    registers: [registry],
    collect() {
      this.set(unpersisted());
    },
  });
}
