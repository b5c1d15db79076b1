import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { crmConfig } from '../../test/support/crm-config.ts';
import type { CredentialRef } from '../credentials/ref.ts';
import type { Credential } from '../credentials/types.ts';
import { KeygateError } from '../errors.ts';
import { createLogger } from '../observability/logger.ts';
import type { RefreshEvent } from './events.ts';
import type { RefreshOptions } from './refresher.ts';
import { RefreshScheduler } from './scheduler.ts';
import type { Trackable } from './trackable.ts';
import { credentialRef } from '../credentials/ref.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const MIN = 60_000;
const DAY = 24 * 60 * MIN;

const config = crmConfig('refresh: { concurrency: 3, retryFailedAfterSeconds: 60 }\n');

class FakeRefresher extends EventEmitter {
  calls: Array<{ tenant: string; integration: string; at: number }> = [];
  inFlight = 0;
  maxInFlight = 0;
  /** What the next refreshes do: a lifetime for the new token in ms, or an error. */
  outcome: (tenant: string) => number | Error = () => 60 * MIN;

  async refresh({ tenant, integration }: CredentialRef, _options: RefreshOptions): Promise<Credential> {
    this.calls.push({ tenant, integration, at: Date.now() });
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((r) => setTimeout(r, 10));
    this.inFlight -= 1;
    const outcome = this.outcome(tenant);
    if (outcome instanceof Error) throw outcome;
    return credential(tenant, integration, Date.now() + outcome);
  }
}

function credential(tenant: string, integration: string, expiresAt: number): Credential {
  const now = new Date().toISOString();
  return {
    tenant,
    integration,
    account: 'default',
    authType: 'oauth2',
    status: 'active',
    expiresAt: new Date(expiresAt).toISOString(),
    scopes: [],
    createdAt: now,
    updatedAt: now,
    lastRefreshedAt: now,
    secret: {},
    version: 2,
  };
}

const oauth = (tenant: string, expiresInMs: number, extra: Partial<Trackable> = {}): Trackable => ({
  tenant,
  integration: 'crm',
  account: 'default',
  authType: 'oauth2',
  status: 'active',
  expiresAt: new Date(Date.now() + expiresInMs).toISOString(),
  ...extra,
});

describe('RefreshScheduler', () => {
  let refresher: FakeRefresher;
  let scheduler: RefreshScheduler;
  let events: Array<[string, RefreshEvent]>;

  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
    refresher = new FakeRefresher();
    scheduler = new RefreshScheduler({
      refresher,
      source: { listAll: async () => [] },
      config,
      logger: createLogger({ silent: true }),
    });
    events = [];
    for (const name of ['refresh-scheduled', 'refresh-cancelled', 'refresh-success'] as const) {
      scheduler.on(name, (e: RefreshEvent) => events.push([name, e]));
    }
  });
  afterEach(() => {
    scheduler.stop();
    vi.useRealTimers();
  });

  // Regression: the connect callback stored a 90 s token and tracked it, and the schedule
  // put it due at once (the half-life rule applied only to tokens the scheduler refreshed).
  it('a fresh 90 s token tracked as stored (connect, PUT, another replica) waits half its life', async () => {
    scheduler.track(oauth('fresh', 90_000, { lastRefreshedAt: new Date(T0).toISOString() }));
    expect(scheduler.dueAt(credentialRef('fresh', 'crm'))).toBe(T0 + 45_000);
    // The resync's listing of the same record agrees, so it does not move the schedule.
    expect(scheduler.reflects(oauth('fresh', 90_000, { lastRefreshedAt: new Date(T0).toISOString() }))).toBe(
      true,
    );
    await vi.advanceTimersByTimeAsync(45_000 - 1);
    expect(refresher.calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(refresher.calls.map((c) => c.tenant)).toEqual(['fresh']);
  });

  it('a 1 h token fires at 55 min, not a millisecond before', async () => {
    scheduler.track(oauth('acme', 60 * MIN));
    expect(events).toEqual([
      ['refresh-scheduled', expect.objectContaining({ tenant: 'acme', integration: 'crm', attempt: 1 })],
    ]);
    expect(events[0]?.[1].dueAt).toBe(new Date(T0 + 55 * MIN).toISOString());
    await vi.advanceTimersByTimeAsync(55 * MIN - 1);
    expect(refresher.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(refresher.calls).toEqual([{ tenant: 'acme', integration: 'crm', at: T0 + 55 * MIN }]);
  });

  it('a 60-day token does not fire early (past the 24.8-day setTimeout limit), then fires on time', async () => {
    scheduler.track(oauth('acme', 60 * DAY));
    for (let day = 0; day < 59; day += 1) await vi.advanceTimersByTimeAsync(DAY);
    expect(refresher.calls).toHaveLength(0);
    expect(scheduler.activeTimers).toBe(1);
    await vi.advanceTimersByTimeAsync(DAY - 5 * MIN - 1);
    expect(refresher.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(refresher.calls).toHaveLength(1);
    expect(refresher.calls[0]?.at).toBe(T0 + 60 * DAY - 5 * MIN);
  });

  it('reschedules later and earlier, and cancels', async () => {
    refresher.outcome = () => 10 * DAY;
    scheduler.track(oauth('later', 60 * MIN));
    scheduler.track(oauth('later', 120 * MIN));
    scheduler.track(oauth('earlier', 120 * MIN));
    scheduler.track(oauth('earlier', 30 * MIN));
    scheduler.track(oauth('gone', 10 * MIN));
    expect(scheduler.cancel(credentialRef('gone', 'crm'))).toBe(true);
    expect(events.at(-1)).toEqual(['refresh-cancelled', expect.objectContaining({ tenant: 'gone' })]);
    expect(scheduler.nextDueAt).toBe(T0 + 25 * MIN);
    await vi.advanceTimersByTimeAsync(25 * MIN);
    expect(refresher.calls.map((c) => c.tenant)).toEqual(['earlier']);
    await vi.advanceTimersByTimeAsync(90 * MIN);
    expect(refresher.calls.map((c) => c.tenant)).toEqual(['earlier', 'later']);
    expect(refresher.calls[1]?.at).toBe(T0 + 115 * MIN);
  });

  it('reschedules from the new expiry after a refresh', async () => {
    scheduler.track(oauth('acme', 6 * MIN));
    await vi.advanceTimersByTimeAsync(1 * MIN + 10);
    expect(refresher.calls).toHaveLength(1);
    // New 60-minute token received at T0+1min+10ms: due 55 minutes later.
    expect(scheduler.nextDueAt).toBe(T0 + MIN + 10 + 55 * MIN);
  });

  it('permanent failure stops all attempts; transient failure retries after retryFailedAfterSeconds', async () => {
    refresher.outcome = (tenant) =>
      tenant === 'revoked'
        ? new KeygateError('credential_refresh_failed')
        : new KeygateError('token_endpoint_unavailable');
    scheduler.track(oauth('revoked', -1));
    scheduler.track(oauth('flaky', -1));
    await vi.advanceTimersByTimeAsync(20);
    expect(refresher.calls.map((c) => c.tenant).sort()).toEqual(['flaky', 'revoked']);
    expect(scheduler.statusCounts).toEqual({ active: 0, refresh_failed: 1, needs_reauth: 1 });
    expect(scheduler.size).toBe(1);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(refresher.calls.map((c) => c.tenant).sort()).toEqual(['flaky', 'flaky', 'revoked']);
    expect(
      events.filter(([n, e]) => n === 'refresh-scheduled' && e.tenant === 'flaky').at(-1)?.[1].attempt,
    ).toBe(3);
  });

  it('reports a scheduled refresh that fails for another reason (Vault down) and retries it', async () => {
    refresher.outcome = () => new KeygateError('vault_unavailable');
    const failed: RefreshEvent[] = [];
    scheduler.on('refresh-failed', (e: RefreshEvent) => failed.push(e));
    scheduler.track(oauth('acme', -1));
    await vi.advanceTimersByTimeAsync(20);
    expect(failed).toEqual([
      expect.objectContaining({ tenant: 'acme', attempt: 1, permanent: false, error: 'vault_unavailable' }),
    ]);
    expect(scheduler.nextDueAt).toBe(T0 + 10 + 60_000);
  });

  it('does not schedule API keys, needs_reauth credentials, or integrations not configured', () => {
    scheduler.track(oauth('key', 60 * MIN, { authType: 'api_key', expiresAt: null }));
    scheduler.track(oauth('elsewhere', 60 * MIN, { integration: 'unknown' }));
    scheduler.track(oauth('reauth', 60 * MIN, { status: 'needs_reauth' }));
    expect(scheduler.size).toBe(0);
    expect(scheduler.activeTimers).toBe(0);
    expect(scheduler.statusCounts).toEqual({ active: 0, refresh_failed: 0, needs_reauth: 1 });
  });

  it('expired tokens at start refresh at once, never more than refresh.concurrency at a time', async () => {
    const listings = Array.from({ length: 20 }, (_, i) => ({
      ...oauth(`t${i}`, -MIN),
      account: 'default',
      version: 1,
    }));
    const started = new RefreshScheduler({
      refresher,
      source: { listAll: async () => listings },
      config,
      logger: createLogger({ silent: true }),
    });
    try {
      expect(await started.start()).toBe(20);
      await vi.advanceTimersByTimeAsync(100);
      expect(refresher.calls).toHaveLength(20);
      expect(refresher.maxInFlight).toBe(3);
      expect(started.size).toBe(20);
    } finally {
      started.stop();
    }
  });

  it('holds one timer for ten thousand credentials', () => {
    for (let i = 0; i < 10_000; i += 1) scheduler.track(oauth(`t${i}`, (i + 10) * MIN));
    expect(scheduler.size).toBe(10_000);
    expect(scheduler.activeTimers).toBe(1);
    expect(vi.getTimerCount()).toBe(1);
  });

  it('follows refreshes made by others (the proxy 401 path)', () => {
    scheduler.track(oauth('acme', 10 * MIN));
    const expiresAt = new Date(T0 + 60 * MIN).toISOString();
    refresher.emit('refresh-success', {
      tenant: 'acme',
      integration: 'crm',
      account: 'default',
      time: '',
      attempt: 1,
      expiresAt,
    });
    expect(scheduler.nextDueAt).toBe(T0 + 55 * MIN);
    expect(events.slice(-2).map(([name]) => name)).toEqual(['refresh-success', 'refresh-scheduled']);
    refresher.emit('refresh-failed', {
      tenant: 'acme',
      integration: 'crm',
      account: 'default',
      time: '',
      attempt: 1,
      permanent: true,
    });
    expect(scheduler.size).toBe(0);
  });
});
