import { describe, expect, it } from 'vitest';
import { seeded } from '../../test/support/seeded-random.ts';
import {
  goDuration,
  leadingInteger,
  MAX_RESET_MS,
  quantity,
  retryAfter,
  retryAfterMs,
  rfc3339,
} from './values.ts';

describe('goDuration (OpenAI resets)', () => {
  it.each([
    ['6m0s', 360_000],
    ['1.5s', 1500],
    ['120ms', 120],
    ['1h2m3.5s', 3_723_500],
    ['0s', 0],
    ['2m59.56s', 179_560],
    ['500us', 0.5],
    ['500µs', 0.5],
    ['250ns', 0.00025],
    ['12', 12_000],
    ['0.25', 250],
  ])('%s is %d ms', (text, ms) => {
    expect(goDuration(text)).toBeCloseTo(ms, 6);
  });

  it.each(['', '-1s', '1x', 's', '1s2', '1.2.3s', '1 s', 'NaN', 'Infinity', '1e3s', '25h', '9999999999s'])(
    '%j is not a (sane) duration',
    (text) => {
      expect(goDuration(text)).toBeNaN();
    },
  );

  it('reads back any duration written the way Go writes it (property, seeded)', () => {
    const random = seeded(1);
    for (let i = 0; i < 2000; i += 1) {
      const h = Math.floor(random() * 24);
      const m = Math.floor(random() * 60);
      const ms = Math.floor(random() * 60_000);
      const s = ms / 1000;
      // Go: "1h2m3.5s", "2m0s", "3.5s", "120ms" (under a second).
      const text = h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : ms >= 1000 ? `${s}s` : `${ms}ms`;
      const expected = h * 3_600_000 + m * 60_000 + ms;
      if (expected > MAX_RESET_MS) continue;
      expect([text, goDuration(text)]).toEqual([text, expect.closeTo(expected, 6)]);
    }
  });

  it('never throws and never answers outside 0..24 h, whatever it is given (fuzz, seeded)', () => {
    const random = seeded(2);
    const alphabet = '0123456789.hmsuµnx -+eE';
    for (let i = 0; i < 5000; i += 1) {
      const length = Math.floor(random() * 12);
      let text = '';
      for (let j = 0; j < length; j += 1) text += alphabet[Math.floor(random() * alphabet.length)];
      const ms = goDuration(text);
      expect(Number.isNaN(ms) || (ms >= 0 && ms <= MAX_RESET_MS)).toBe(true);
    }
  });
});

describe('quantities and dates', () => {
  it('reads counts, refuses garbage, negatives and absurd ones', () => {
    expect(quantity('59')).toBe(59);
    expect(quantity(' 149984 ')).toBe(149984);
    expect(quantity('2.5')).toBe(2.5);
    for (const bad of ['', '-1', '0x10', '1e3', 'abc', '12abc', '99999999999999', undefined])
      expect(quantity(bad)).toBeNaN();
    expect(leadingInteger('100, 100;w=60')).toBe(100);
    expect(leadingInteger('100;w=60')).toBe(100);
    expect(leadingInteger('x')).toBeNaN();
  });

  it('reads RFC 3339 timestamps as time from now, with how coarse they are', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(rfc3339('2026-01-01T00:00:30Z', now)).toEqual({ ms: 30_000, slackMs: 1000 });
    expect(rfc3339('2026-01-01T00:00:01.5Z', now)).toEqual({ ms: 1500, slackMs: 100 });
    expect(rfc3339('2026-01-01T01:00:00+01:00', now)).toEqual({ ms: 0, slackMs: 1000 }); // already past
    expect(rfc3339('2026-01-03T00:00:00Z', now)).toBeUndefined(); // over a day: garbage
    for (const bad of ['tomorrow', '2026-01-01', '2026-13-45T99:99:99Z', '1735689600', ''])
      expect(rfc3339(bad, now)).toBeUndefined();
  });

  it('reads Retry-After as seconds or an HTTP date, and retry-after-ms', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfter('7', now)).toBe(7000);
    expect(retryAfter('Thu, 01 Jan 2026 00:00:20 GMT', now)).toBe(20_000);
    expect(retryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    for (const bad of ['-5', 'soon', '1e9', '99999999', '12 seconds', ''])
      expect(retryAfter(bad, now)).toBeNaN();
    expect(retryAfterMs('250')).toBe(250);
    expect(retryAfterMs('-1')).toBeNaN();
  });
});
