import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { crmConfig } from '../../test/support/crm-config.ts';
import { credentialRef } from '../credentials/ref.ts';
import { createLogger } from '../observability/logger.ts';
import { ListingGuard } from './listing-guard.ts';
import { RefreshScheduler } from './scheduler.ts';
import type { Trackable } from './trackable.ts';

describe('ListingGuard', () => {
  it('a listing under way collects the credentials touched from its start to its stop, no others', () => {
    const guard = new ListingGuard();
    guard.touch(credentialRef('before', 'crm'));
    const first = guard.watch();
    guard.touch(credentialRef('a', 'crm'));
    const second = guard.watch();
    guard.touch(credentialRef('b', 'crm', 'work'));
    first.stop();
    guard.touch(credentialRef('c', 'crm'));
    second.stop();
    guard.touch(credentialRef('after', 'crm'));
    expect([...first.keys]).toEqual(['a/crm', 'b/crm/work']);
    expect([...second.keys]).toEqual(['b/crm/work', 'c/crm']);
  });
});

describe('the schedule and the guard', () => {
  const config = crmConfig();
  const oauth = (tenant: string, extra: Partial<Trackable> = {}): Trackable => ({
    tenant,
    integration: 'crm',
    account: 'default',
    authType: 'oauth2',
    status: 'active',
    expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    ...extra,
  });

  it('fresher news (track, cancel, a refresh) touches a credential; what a listing says does not', () => {
    const refresher = Object.assign(new EventEmitter(), { refresh: vi.fn() });
    const scheduler = new RefreshScheduler({
      refresher,
      source: { listAll: async () => [] },
      config,
      logger: createLogger({ silent: true }),
    });
    try {
      const touched = scheduler.watchTouched();
      scheduler.track(oauth('stored'));
      scheduler.track(oauth('other-account', { account: 'work' }));
      scheduler.track(oauth('now-a-key', { authType: 'api_key', expiresAt: null })); // a cancel
      scheduler.cancel(credentialRef('deleted', 'crm')); // unknown here, and still news: a listing must not add it
      refresher.emit('refresh-success', {
        tenant: 'refreshed',
        integration: 'crm',
        account: 'default',
        time: new Date().toISOString(),
        attempt: 1,
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      });
      scheduler.applyListing(oauth('listed'));
      scheduler.applyListing(oauth('listed-key', { authType: 'api_key', expiresAt: null }));
      scheduler.applyListing(oauth('listed-then-gone'));
      scheduler.cancelListed(credentialRef('listed-then-gone', 'crm', 'default'));
      touched.stop();
      scheduler.track(oauth('later'));
      expect([...touched.keys].sort()).toEqual([
        'deleted/crm',
        'now-a-key/crm',
        'other-account/crm/work',
        'refreshed/crm',
        'stored/crm',
      ]);
      expect(scheduler.size).toBe(5); // stored, other-account, refreshed, listed, later
    } finally {
      scheduler.stop();
    }
  });
});
