import { describe, expect, it } from 'vitest';
import { backoffMs } from './backoff.ts';

const bounds = { minMs: 100, maxMs: 10_000 };

describe('backoffMs', () => {
  it('grows exponentially up to the cap, with the whole range jittered', () => {
    expect([1, 2, 3, 4].map((n) => backoffMs(n, bounds, () => 1))).toEqual([100, 200, 400, 800]);
    expect(backoffMs(50, bounds, () => 1)).toBe(10_000);
    expect(backoffMs(4, bounds, () => 0.5)).toBe(400);
  });

  it('never waits less than half the minimum', () => {
    expect(backoffMs(1, bounds, () => 0)).toBe(50);
    expect(backoffMs(10, bounds, () => 0)).toBe(50);
  });
});
