import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { crmConfig } from '../../test/support/crm-config.ts';
import type { CredentialListing } from '../credentials/types.ts';
import { createLogger } from '../observability/logger.ts';
import { ScheduleResync } from './resync.ts';
import { RefreshScheduler } from './scheduler.ts';
import { credentialRef } from '../credentials/ref.ts';

const config = crmConfig();
const HOUR = 3_600_000;

// A listed OAuth credential of tenant `tenant`, expiring an hour from the (fake) now.
const listing = (tenant: string, extra: Partial<CredentialListing> = {}): CredentialListing => ({
  tenant,
  integration: 'crm',
  account: 'default',
  authType: 'oauth2',
  status: 'active',
  expiresAt: new Date(Date.now() + HOUR).toISOString(),
  version: 1,
  ...extra,
});

describe('ScheduleResync', () => {
  afterEach(() => vi.useRealTimers());

  it('schedules what appeared or came back, cancels what disappeared, leaves the rest alone', async () => {
    vi.useFakeTimers({ now: Date.parse('2026-01-01T00:00:00Z') });
    let stored = [listing('kept'), listing('deleted'), listing('revoked', { status: 'needs_reauth' })];
    const refresher = Object.assign(new EventEmitter(), { refresh: vi.fn() });
    const logger = createLogger({ silent: true });
    const scheduler = new RefreshScheduler({
      refresher,
      source: { listAll: async () => stored },
      config,
      logger,
    });
    await scheduler.start();
    expect(scheduler.size).toBe(2);
    const scheduled: string[] = [];
    scheduler.on('refresh-scheduled', (e: { tenant: string }) => scheduled.push(e.tenant));
    const resync = new ScheduleResync({
      scheduler,
      source: { listAll: async () => stored },
      intervalMs: 0,
      logger,
    });

    stored = [listing('kept'), listing('revoked', { version: 3 }), listing('new')];
    expect(await resync.runOnce()).toEqual({ changed: 2, removed: 1 });
    expect(scheduled.sort()).toEqual(['new', 'revoked']);
    expect(scheduler.size).toBe(3);
    expect(scheduler.statusCounts).toEqual({ active: 3, refresh_failed: 0, needs_reauth: 0 });
    expect(await resync.runOnce()).toEqual({ changed: 0, removed: 0 });
    scheduler.stop();
  });

  it('a listing read before a fleet change does not undo it (stored or deleted meanwhile)', async () => {
    vi.useFakeTimers({ now: Date.parse('2026-01-01T00:00:00Z') });
    const refresher = Object.assign(new EventEmitter(), { refresh: vi.fn() });
    const logger = createLogger({ silent: true });
    let release: (listings: CredentialListing[]) => void = () => {};
    const slowList = () => new Promise<CredentialListing[]>((resolve) => (release = resolve));
    const scheduler = new RefreshScheduler({ refresher, source: { listAll: slowList }, config, logger });
    const started = scheduler.start();
    // While the listing is under way, the changes record says: `fresh` stored, `gone` deleted.
    scheduler.track(listing('fresh'));
    scheduler.cancel(credentialRef('gone', 'crm', 'default'));
    // The listing was read before both: it holds `gone`, not `fresh`.
    release([listing('old'), listing('gone')]);
    await started;
    expect([...scheduler.known()].map(({ tenant }) => tenant).sort()).toEqual(['fresh', 'old']);

    const resync = new ScheduleResync({ scheduler, source: { listAll: slowList }, intervalMs: 0, logger });
    const running = resync.runOnce();
    scheduler.track(listing('newer'));
    release([listing('old'), listing('fresh'), listing('gone')]);
    await running;
    expect([...scheduler.known()].map(({ tenant }) => tenant).sort()).toEqual([
      'fresh',
      'gone',
      'newer',
      'old',
    ]);
    scheduler.stop();
  });
});
