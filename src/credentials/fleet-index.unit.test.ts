import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { KeygateEvent } from '../events/catalogue.ts';
import { decodeCursor, Inventory } from './fleet-index.ts';
import { credentialRef, type CredentialRef } from './ref.ts';
import type { CredentialListing } from './types.ts';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const at = (ms: number) => new Date(NOW + ms).toISOString();

type ReadBack = (ref: CredentialRef) => Promise<CredentialListing | undefined>;

function setup(listings: CredentialListing[], listing?: ReadBack) {
  const bus = new EventEmitter();
  let answer = listings;
  let release: (() => void) | undefined;
  const source = {
    calls: 0,
    hold: false,
    async listAll() {
      source.calls += 1;
      if (source.hold) await new Promise<void>((r) => (release = r));
      return answer;
    },
    ...(listing ? { listing } : {}),
  };
  const inventory = new Inventory({
    source,
    bus: { subscribe: (fn: (e: KeygateEvent) => void) => (bus.on('e', fn), () => bus.off('e', fn)) },
    refreshBufferMs: 300_000,
    maxAgeMs: 30_000,
    now: () => NOW,
  });
  const publish = (type: string, data: Record<string, unknown>) =>
    bus.emit('e', { id: 'x', type, data: { replica: 'r', time: at(0), account: 'default', ...data } });
  return {
    inventory,
    source,
    publish,
    setAnswer: (l: CredentialListing[]) => (answer = l),
    release: () => release?.(),
  };
}

const oauth = (tenant: string, integration: string, extra: Partial<CredentialListing> = {}) =>
  ({
    tenant,
    integration,
    account: 'default',
    authType: 'oauth2',
    status: 'active',
    expiresAt: at(3600_000),
    version: 1,
    ...extra,
  }) as CredentialListing;

describe('Inventory', () => {
  it('pages in tenant, integration order with a cursor, and counts every match', async () => {
    const listings = Array.from({ length: 25 }, (_, i) => oauth(`t${String(i).padStart(2, '0')}`, 'crm'));
    const { inventory } = setup(listings.reverse());
    await inventory.relist();
    const first = inventory.query({ limit: 10 });
    expect(first.credentials.map((c) => c.tenant)).toEqual(Array.from({ length: 10 }, (_, i) => `t0${i}`));
    expect(first.total).toBe(25);
    const second = inventory.query({ limit: 10, cursor: first.nextCursor ?? undefined });
    expect(second.credentials[0]?.tenant).toBe('t10');
    const third = inventory.query({ limit: 10, cursor: second.nextCursor ?? undefined });
    expect(third.credentials).toHaveLength(5);
    expect(third.nextCursor).toBeNull();
    expect(decodeCursor('not-a-cursor')).toBeUndefined();
  });

  it('filters by tenant, integration, status, expiring soon and free text', async () => {
    const { inventory } = setup([
      oauth('acme', 'crm'),
      oauth('acme', 'anthropic', { authType: 'api_key', expiresAt: at(600_000) }),
      oauth('beta', 'crm', { status: 'needs_reauth' }),
      oauth('gamma', 'crm', { expiresAt: at(60_000) }),
    ]);
    await inventory.relist();
    const names = (q: Parameters<Inventory['query']>[0]) =>
      inventory.query(q).credentials.map((c) => `${c.tenant}/${c.integration}`);
    expect(names({ limit: 50, tenant: 'acme' })).toEqual(['acme/anthropic', 'acme/crm']);
    expect(names({ limit: 50, integration: 'crm', status: 'needs_reauth' })).toEqual(['beta/crm']);
    // An API key expiring within the hour; an OAuth token whose refresh is already late.
    expect(names({ limit: 50, status: 'expiring_soon' })).toEqual(['acme/anthropic', 'gamma/crm']);
    // `active` is the stored status: the expiring ones are active too.
    expect(names({ limit: 50, status: 'active' })).toEqual(['acme/anthropic', 'acme/crm', 'gamma/crm']);
    expect(names({ limit: 50, q: 'AM' })).toEqual(['gamma/crm']);
    const acme = inventory.query({ limit: 1, tenant: 'acme', integration: 'crm' }).credentials[0];
    expect(acme).toMatchObject({ expiringSoon: false, nextRefreshAt: at(3300_000), lastRefresh: null });
  });

  it('follows this replica events at once', async () => {
    const { inventory, publish } = setup([oauth('acme', 'crm')]);
    await inventory.relist();
    publish('credential-stored', {
      tenant: 'beta',
      integration: 'crm',
      authType: 'oauth2',
      status: 'active',
      expiresAt: at(7200_000),
    });
    publish('refresh-failed', { tenant: 'acme', integration: 'crm', permanent: false, error: 'http_503' });
    expect(inventory.query({ limit: 50 }).credentials).toMatchObject([
      { tenant: 'acme', status: 'refresh_failed', lastRefresh: { result: 'failed', error: 'http_503' } },
      { tenant: 'beta', status: 'active' },
    ]);
    publish('refresh-success', { tenant: 'acme', integration: 'crm', expiresAt: at(9000_000) });
    publish('credential-deleted', { tenant: 'beta', integration: 'crm' });
    expect(inventory.query({ limit: 50 }).credentials).toMatchObject([
      { tenant: 'acme', status: 'active', expiresAt: at(9000_000), lastRefresh: { result: 'success' } },
    ]);
  });

  it('keeps what events said while a listing was under way over its older answer', async () => {
    const { inventory, source, publish, release } = setup([oauth('acme', 'crm'), oauth('beta', 'crm')]);
    source.hold = true;
    const listing = inventory.relist();
    const joined = inventory.tap().listAll(); // the scheduler's listing joins, not a second one
    publish('credential-deleted', { tenant: 'beta', integration: 'crm' });
    publish('needs-reauth', { tenant: 'acme', integration: 'crm', reason: 'refresh_failed' });
    release();
    await Promise.all([listing, joined]);
    expect(source.calls).toBe(1);
    expect(inventory.query({ limit: 50 }).credentials.map((c) => c.tenant)).toEqual(['acme']);
  });

  it('relists in the background when a query finds it older than maxAge', async () => {
    let now = NOW;
    const bus = { subscribe: () => () => {} };
    let answer = [oauth('acme', 'crm')];
    const source = { listAll: async () => answer };
    const inventory = new Inventory({ source, bus, refreshBufferMs: 0, maxAgeMs: 30_000, now: () => now });
    await inventory.relist();
    answer = [oauth('acme', 'crm'), oauth('other', 'crm')];
    expect(inventory.query({ limit: 50 }).total).toBe(1);
    now += 31_000;
    expect(inventory.query({ limit: 50 }).total).toBe(1); // answered from memory at once
    await inventory.relist();
    expect(inventory.query({ limit: 50 }).total).toBe(2);
  });

  it('reads a changed credential back from Vault: the latest read wins, a gone one is dropped', async () => {
    const reads: Array<{ tenant: string; resolve: (l: CredentialListing | undefined) => void }> = [];
    const { inventory } = setup(
      [oauth('acme', 'crm')],
      ({ tenant }) => new Promise((resolve) => reads.push({ tenant, resolve })),
    );
    await inventory.relist();
    const flush = () => new Promise((r) => setImmediate(r));
    inventory.follow(credentialRef('acme', 'crm')); // an older read ...
    inventory.follow(credentialRef('acme', 'crm')); // ... and a newer one
    const [older, newer] = reads;
    newer?.resolve(oauth('acme', 'crm', { status: 'needs_reauth', lastRefreshError: 'invalid_grant' }));
    await flush();
    older?.resolve(oauth('acme', 'crm', { status: 'active' })); // late: dropped
    await flush();
    expect(inventory.sorted()).toMatchObject([
      { tenant: 'acme', status: 'needs_reauth', lastRefreshError: 'invalid_grant' },
    ]);
    inventory.follow(credentialRef('other', 'crm'));
    reads.at(-1)?.resolve(oauth('other', 'crm', { updatedAt: at(-5000) }));
    await flush();
    expect(inventory.sorted().map((e) => [e.tenant, e.updatedAt])).toEqual([
      ['acme', null],
      ['other', at(-5000)],
    ]);
    inventory.follow(credentialRef('acme', 'crm'));
    reads.at(-1)?.resolve(undefined); // deleted meanwhile
    await flush();
    expect(inventory.sorted().map((e) => e.tenant)).toEqual(['other']);
  });
});
