import { describe, expect, it } from 'vitest';
import { dueTime } from './due-time.ts';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const MIN = 60_000;
const at = (ms: number) => new Date(NOW + ms).toISOString();
const active = (expiresInMs: number) => ({ status: 'active' as const, expiresAt: at(expiresInMs) });

describe('dueTime', () => {
  it('is the buffer before expiry, or now when that has passed', () => {
    expect(dueTime(active(60 * MIN), 5 * MIN, NOW, false)).toBe(NOW + 55 * MIN);
    expect(dueTime(active(3 * MIN), 5 * MIN, NOW, false)).toBe(NOW);
    expect(dueTime(active(-MIN), 5 * MIN, NOW, false)).toBe(NOW);
  });

  it('renews a just-refreshed token shorter than the buffer halfway through its life', () => {
    expect(dueTime(active(2 * MIN), 5 * MIN, NOW, true)).toBe(NOW + MIN);
    expect(dueTime(active(1000), 5 * MIN, NOW, true)).toBe(NOW + 1000);
  });

  it('is undefined without expiry or for needs_reauth', () => {
    expect(dueTime({ status: 'active', expiresAt: null }, 0, NOW, false)).toBeUndefined();
    expect(dueTime({ status: 'needs_reauth', expiresAt: at(MIN) }, 0, NOW, false)).toBeUndefined();
  });
});
