import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { credentialRef, refKey } from '../credentials/ref.ts';
import type { CredentialListing } from '../credentials/types.ts';
import { KeygateError } from '../errors.ts';
import { createLogger } from '../observability/logger.ts';
import { ListingGuard } from './listing-guard.ts';
import { ListingLoad, type LoadTarget } from './listing-load.ts';
import type { Trackable } from './trackable.ts';

const listing = (tenant: string): CredentialListing => ({
  tenant,
  integration: 'crm',
  account: 'default',
  authType: 'oauth2',
  status: 'active',
  expiresAt: '2026-01-01T01:00:00.000Z',
  version: 1,
});

/** A schedule that records what it is given, and whether the load said it was loading then. */
class Schedule implements LoadTarget {
  readonly guard = new ListingGuard();
  readonly applied: string[] = [];
  watches = 0;
  stops = 0;
  load: ListingLoad | undefined;
  loadingWhileApplied = true;

  watchTouched() {
    this.watches += 1;
    const watch = this.guard.watch();
    return { keys: watch.keys, stop: () => (this.stops++, watch.stop()) };
  }

  applyListing(l: Trackable): void {
    this.applied.push(refKey(credentialRef(l.tenant, l.integration, l.account)));
    this.loadingWhileApplied &&= this.load?.loading === true;
  }

  get size(): number {
    return this.applied.length;
  }
}

function capture() {
  const stream = new PassThrough();
  const lines: Array<Record<string, unknown>> = [];
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
  });
  return { logger: createLogger({ stream }), lines };
}

describe('ListingLoad', () => {
  afterEach(() => vi.useRealTimers());

  it('applies the listing, except what fresher news touched while it was read, in one summary line', async () => {
    const schedule = new Schedule();
    const { logger, lines } = capture();
    let release: (l: CredentialListing[]) => void = () => {};
    const source = { listAll: () => new Promise<CredentialListing[]>((resolve) => (release = resolve)) };
    const load = (schedule.load = new ListingLoad({ schedule, source, logger }));
    const done = load.run();
    schedule.guard.touch(credentialRef('changed', 'crm')); // a fleet change while Vault lists
    expect(load.loading).toBe(false); // the summary covers the listing, not the wait for it
    release([listing('a'), listing('changed'), listing('b')]);
    expect(await done).toBe(3);
    expect(schedule.applied).toEqual(['a/crm', 'b/crm']);
    expect(schedule.loadingWhileApplied).toBe(true);
    expect(load.loading).toBe(false);
    expect(schedule.stops).toBe(1);
    await vi.waitFor(() => expect(lines).toHaveLength(1));
    expect(lines[0]).toMatchObject({ event: 'refresh_schedule_loaded', credentials: 3, scheduled: 2 });
  });

  it('yields to the event loop every 10,000 listings', async () => {
    const schedule = new Schedule();
    const listings = Array.from({ length: 25_000 }, (_, i) => listing(`t${i}`));
    const load = new ListingLoad({
      schedule,
      source: { listAll: async () => listings },
      logger: createLogger({ silent: true }),
    });
    const appliedWhenOthersRan: number[] = [];
    const other = () => {
      appliedWhenOthersRan.push(schedule.applied.length);
      if (schedule.applied.length < listings.length) setImmediate(other);
    };
    setImmediate(other);
    await load.run();
    expect(appliedWhenOthersRan).toEqual([10_000, 20_000]);
    expect(schedule.applied).toHaveLength(25_000);
  });

  it('a listing that fails stops watching and says why; in the background it is retried until it works', async () => {
    vi.useFakeTimers();
    const schedule = new Schedule();
    const { logger, lines } = capture();
    let failures = 2;
    const source = {
      listAll: vi.fn(async () => {
        if (failures-- > 0) throw new KeygateError('vault_unavailable');
        return [listing('a')];
      }),
    };
    const load = new ListingLoad({ schedule, source, logger });
    await expect(load.run()).rejects.toThrow(KeygateError);
    expect(schedule.stops).toBe(schedule.watches);
    load.runInBackground();
    await vi.advanceTimersByTimeAsync(0);
    expect(source.listAll).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(4999);
    expect(source.listAll).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(source.listAll).toHaveBeenCalledTimes(3);
    expect(schedule.applied).toEqual(['a/crm']);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(source.listAll).toHaveBeenCalledTimes(3);
    expect(schedule.stops).toBe(schedule.watches);
    await vi.waitFor(() => expect(lines.map((l) => l['event'])).toContain('refresh_schedule_loaded'));
    expect(lines.filter((l) => l['event'] === 'refresh_schedule_load_failed')).toEqual([
      expect.objectContaining({ errorCode: 'vault_unavailable' }),
    ]);
  });

  // The retry already armed when the schedule stops still lists once (it is unref'd, and what
  // it lists is dropped: a stopped schedule tracks nothing); after that, nothing.
  it('stopped, it retries no more', async () => {
    vi.useFakeTimers();
    const source = {
      listAll: vi.fn(async (): Promise<CredentialListing[]> => Promise.reject(new Error('down'))),
    };
    const load = new ListingLoad({
      schedule: new Schedule(),
      source,
      logger: createLogger({ silent: true }),
    });
    load.runInBackground();
    await vi.advanceTimersByTimeAsync(5000);
    expect(source.listAll).toHaveBeenCalledTimes(2);
    load.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(source.listAll).toHaveBeenCalledTimes(3);
    expect(vi.getTimerCount()).toBe(0);
  });
});
