import { describe, expect, it } from 'vitest';
import { dueTime } from './due-time.ts';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const MIN = 60_000;
const at = (ms: number) => new Date(NOW + ms).toISOString();
const active = (expiresInMs: number, obtainedMsAgo?: number) => ({
  status: 'active' as const,
  expiresAt: at(expiresInMs),
  lastRefreshedAt: obtainedMsAgo === undefined ? null : at(-obtainedMsAgo),
});

describe('dueTime', () => {
  it('is the buffer before expiry, or now when that has passed', () => {
    expect(dueTime(active(60 * MIN), 5 * MIN, NOW)).toBe(NOW + 55 * MIN);
    expect(dueTime(active(60 * MIN, 0), 5 * MIN, NOW)).toBe(NOW + 55 * MIN);
    expect(dueTime(active(3 * MIN), 5 * MIN, NOW)).toBe(NOW);
    expect(dueTime(active(-MIN), 5 * MIN, NOW)).toBe(NOW);
  });

  it('renews a token that lives shorter than the buffer halfway through its life', () => {
    expect(dueTime(active(2 * MIN, 0), 5 * MIN, NOW)).toBe(NOW + MIN);
    expect(dueTime(active(1000, 0), 5 * MIN, NOW)).toBe(NOW + 1000);
    // Obtained 30 s ago with 60 s left: a 90 s life, half of it is 15 s from now.
    expect(dueTime(active(MIN, 30_000), 5 * MIN, NOW)).toBe(NOW + 15_000);
    // Half its life has passed already: at once.
    expect(dueTime(active(MIN, 2 * MIN), 5 * MIN, NOW)).toBe(NOW);
  });

  // Regression: a 90-second token stored by the connect callback was refreshed at once,
  // because the due time depended on which path scheduled it, not on the stored record.
  it('a token that arrived through connect (90 s life) is not due at once', () => {
    expect(dueTime(active(90_000, 0), 5 * MIN, NOW)).toBe(NOW + 45_000);
  });

  it('is undefined without expiry or for needs_reauth', () => {
    expect(dueTime({ status: 'active', expiresAt: null, lastRefreshedAt: null }, 0, NOW)).toBeUndefined();
    expect(
      dueTime({ status: 'needs_reauth', expiresAt: at(MIN), lastRefreshedAt: null }, 0, NOW),
    ).toBeUndefined();
  });
});
