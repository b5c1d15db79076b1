import { describe, expect, it } from 'vitest';
import { StaleCache } from './stale-cache.ts';

const down = () => Promise.reject(Object.assign(new Error('down'), { outage: true }));
const isOutage = (err: unknown) => (err as { outage?: boolean }).outage === true;

function setup() {
  let now = 1_000_000;
  const cache = new StaleCache<string>({
    ttlMs: 1000,
    maxStaleMs: 10_000,
    maxEntries: 2,
    absentTtlMs: 500,
    absentMaxEntries: 10,
    outageBackoffMs: 5000,
    now: () => now,
  });
  return { cache, advance: (ms: number) => (now += ms) };
}

describe('StaleCache', () => {
  it('after an outage, serves stale at once and loads once behind, until a load succeeds', async () => {
    const { cache, advance } = setup();
    cache.set('k', 'v1');
    advance(2000);
    expect(await cache.get('k', down, isOutage)).toEqual({ value: 'v1', stale: true });
    expect(cache.inOutage).toBe(true);
    let loads = 0;
    let release: (v: string) => void = () => {};
    const hanging = () => {
      loads += 1;
      return new Promise<string>((resolve) => (release = resolve));
    };
    for (let i = 0; i < 5; i += 1)
      expect(await cache.get('k', hanging, isOutage)).toEqual({ value: 'v1', stale: true });
    expect(loads).toBe(1);
    release('v2');
    await new Promise((resolve) => setImmediate(resolve));
    expect(cache.inOutage).toBe(false);
    expect(await cache.get('k', down, isOutage)).toEqual({ value: 'v2', stale: false });
  });

  it('remembers absence apart from real entries, briefly, and a set ends it', async () => {
    const { cache, advance } = setup();
    cache.set('a', 'A');
    for (const id of ['x', 'y', 'z']) await cache.get(id, () => Promise.resolve(undefined), isOutage);
    expect(cache.size).toBe(1); // absent names took no room from real entries
    expect(await cache.get('x', down, isOutage)).toEqual({ value: undefined, stale: false });
    cache.set('x', 'X');
    expect((await cache.get('x', down, isOutage)).value).toBe('X');
    advance(600);
    await expect(cache.get('y', down, isOutage)).rejects.toThrow('down');
  });
});
