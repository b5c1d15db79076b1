import { describe, expect, it } from 'vitest';
import { crmConfig } from '../../test/support/crm-config.ts';
import { type CredentialRef, refKey } from '../credentials/ref.ts';
import { KeygateError } from '../errors.ts';
import { DueRule } from './due-rule.ts';
import { type Gated, type Shard, ShardGate } from './shard-gate.ts';
import type { Trackable } from './trackable.ts';

const config = crmConfig();
const NOW = Date.parse('2026-01-01T00:00:00Z');
const MIN = 60_000;
const GRACE = 30_000;

interface Item extends Gated {
  due: number;
}
const item = (tenant: string, due = NOW): Item => ({
  tenant,
  integration: 'crm',
  account: 'default',
  due,
  deferred: false,
});
const stored = (expiresInMs: number, extra: Partial<Trackable> = {}): Trackable => ({
  tenant: 'x',
  integration: 'crm',
  account: 'default',
  authType: 'oauth2',
  status: 'active',
  expiresAt: new Date(NOW + expiresInMs).toISOString(),
  ...extra,
});

/** A shard whose ranks and stored records the test sets, counting its metadata reads. */
function shardOf(ranks: Record<string, number>, lookup: (ref: CredentialRef) => Promise<Trackable>) {
  const reads: string[] = [];
  const shard: Shard = {
    rank: (key) => ranks[key] ?? 0,
    lookup: (ref) => {
      reads.push(refKey(ref));
      return lookup(ref);
    },
    graceMs: GRACE,
  };
  return { shard, reads };
}

function gate(shard?: Shard) {
  let now = NOW;
  const g = new ShardGate<Item>(new DueRule(config, () => now), () => now);
  g.use(shard);
  return { gate: g, setNow: (t: number) => (now = t) };
}

describe('ShardGate', () => {
  it('without a shard every due refresh runs here, uncounted', () => {
    const { gate: g } = gate();
    expect(g.deferral(item('a'), NOW)).toBeUndefined();
    expect(g.counts).toEqual({ owned: 0, deferred: 0, checkedFresh: 0, takenOver: 0 });
  });

  it('runs what it owns at once; defers the rest by rank × grace, once', () => {
    const { shard } = shardOf({ 'b/crm': 1, 'c/crm': 2 }, () => Promise.reject(new Error('no read')));
    const { gate: g } = gate(shard);
    const a = item('a');
    const b = item('b');
    const c = item('c', NOW - 10 * MIN); // long overdue: still not before the next tick
    expect(g.deferral(a, NOW)).toBeUndefined();
    expect(g.deferral(b, NOW)).toBe(NOW + GRACE);
    expect(g.deferral(c, NOW)).toBe(NOW + 1);
    expect([a.deferred, b.deferred, c.deferred]).toEqual([false, true, true]);
    // After its grace a deferred one runs (afterGrace decides), and is not counted again.
    expect(g.deferral(b, NOW + GRACE)).toBeUndefined();
    expect(g.counts).toEqual({ owned: 1, deferred: 2, checkedFresh: 0, takenOver: 0 });
  });

  it('a reshard hands back the deferred refreshes this replica owns now, not yet due', () => {
    const ranks: Record<string, number> = { 'b/crm': 1, 'c/crm': 1, 'd/crm': 2, 'e/crm': 1 };
    const { shard } = shardOf(ranks, () => Promise.reject(new Error('no read')));
    const { gate: g } = gate(shard);
    const [b, c, d, e] = [item('b'), item('c'), item('d'), item('e')];
    for (const x of [b, c, d, e]) x.due = g.deferral(x, NOW) as number;
    g.release(e); // rescheduled from fresher news meanwhile
    ranks['b/crm'] = 0; // b's owner went
    ranks['e/crm'] = 0;
    ranks['d/crm'] = 1; // d's owner is still there: it stays deferred
    expect([...g.ownedNow(NOW)]).toEqual([b]);
    expect([...g.ownedNow(b.due)]).toEqual([]); // already due: the timer takes it anyway
    expect(e.deferred).toBe(false);
  });

  it('after the grace: follows what the owner stored, takes over what is still due', async () => {
    const records: Record<string, Trackable | Error> = {
      'fresh/crm': stored(60 * MIN),
      'due/crm': stored(MIN), // inside the 5-minute buffer: its owner did not refresh it
      'reauth/crm': stored(60 * MIN, { status: 'needs_reauth' }),
      'deleted/crm': new KeygateError('credential_not_found'),
      'unreadable/crm': new KeygateError('vault_unavailable'),
    };
    const ranks = Object.fromEntries(Object.keys(records).map((k) => [k, 1]));
    const { shard, reads } = shardOf(ranks, async (ref) => {
      const record = records[refKey(ref)] as Trackable | Error;
      if (record instanceof Error) throw record;
      return record;
    });
    const { gate: g } = gate(shard);
    const after = async (tenant: string) => {
      const x = item(tenant);
      g.deferral(x, NOW);
      const decision = await g.afterGrace(x);
      expect(x.deferred).toBe(false);
      return decision;
    };
    expect(await after('fresh')).toEqual(records['fresh/crm']);
    expect(await after('reauth')).toEqual(records['reauth/crm']); // the schedule follows: not renewed
    expect(await after('due')).toBe('refresh');
    expect(await after('deleted')).toBe('gone');
    expect(await after('unreadable')).toBe('refresh'); // cannot tell: refresh rather than miss it
    expect(reads).toEqual(['fresh/crm', 'reauth/crm', 'due/crm', 'deleted/crm', 'unreadable/crm']);
    expect(g.counts).toEqual({ owned: 0, deferred: 5, checkedFresh: 2, takenOver: 1 });
  });

  it('after the grace, a refresh this replica owns now is run without a read', async () => {
    const ranks: Record<string, number> = { 'a/crm': 1 };
    const { shard, reads } = shardOf(ranks, () => Promise.resolve(stored(60 * MIN)));
    const { gate: g } = gate(shard);
    const a = item('a');
    g.deferral(a, NOW);
    ranks['a/crm'] = 0;
    expect(await g.afterGrace(a)).toBe('refresh');
    g.use(undefined); // sharding off meanwhile (no heartbeat): the same
    const b = item('b');
    b.deferred = true;
    expect(await g.afterGrace(b)).toBe('refresh');
    expect(reads).toEqual([]);
    expect([...g.ownedNow(NOW)]).toEqual([]);
  });
});
