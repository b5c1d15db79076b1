import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { seeded } from '../../test/support/seeded-random.ts';
import { BUCKET, Observations, WINDOW, type Observation } from './observations.ts';
import { parserFor } from './parse.ts';
import { MAX_QUANTITY, MAX_RESET_MS } from './values.ts';

const NOW = Date.parse('2026-01-01T00:00:00Z');

function read(style: Parameters<typeof parserFor>[0], headers: IncomingHttpHeaders, status = 200) {
  const into = new Observations();
  const parser = parserFor(style);
  parser.read(status, headers, into, NOW);
  // `has` is the cheap look the proxy takes first: it never misses what `read` finds.
  if (into.count > 0 || !Number.isNaN(into.retryAfterMs)) expect(parser.has(status, headers)).toBe(true);
  const seen: Observation[] = into.items.slice(0, into.count).map((o) => ({ ...o }));
  return { seen, retryAfterMs: into.retryAfterMs };
}

describe('OpenAI-style headers', () => {
  const answer = {
    'x-ratelimit-limit-requests': '60',
    'x-ratelimit-remaining-requests': '59',
    'x-ratelimit-reset-requests': '1s',
    'x-ratelimit-limit-tokens': '150000',
    'x-ratelimit-remaining-tokens': '149984',
    'x-ratelimit-reset-tokens': '6m0s',
  };

  it('learns the requests and tokens buckets', () => {
    const { seen } = read('openai', answer);
    expect(seen).toEqual([
      expect.objectContaining({
        name: 'requests',
        unit: 'requests',
        refill: BUCKET,
        limit: 60,
        remaining: 59,
        resetMs: 1000,
      }),
      expect.objectContaining({
        name: 'tokens',
        unit: 'tokens',
        limit: 150000,
        remaining: 149984,
        resetMs: 360_000,
      }),
    ]);
  });

  it('ignores garbage, negative and absurd values, and a remaining above its limit', () => {
    expect(
      read('openai', { ...answer, 'x-ratelimit-remaining-requests': 'lots' }).seen.map((o) => o.name),
    ).toEqual(['tokens']);
    expect(
      read('openai', { ...answer, 'x-ratelimit-remaining-tokens': '-4' }).seen.map((o) => o.name),
    ).toEqual(['requests']);
    expect(
      read('openai', { ...answer, 'x-ratelimit-remaining-requests': '61' }).seen.map((o) => o.name),
    ).toEqual(['tokens']);
    const absurd = read('openai', {
      ...answer,
      'x-ratelimit-limit-requests': '1e99',
      'x-ratelimit-reset-requests': '-3s',
    });
    expect(absurd.seen[0]).toMatchObject({ name: 'requests', remaining: 59, limit: NaN, resetMs: NaN });
  });

  it('reads nothing from an answer without them', () => {
    expect(read('openai', { 'content-type': 'application/json' }).seen).toEqual([]);
  });
});

describe('Anthropic-style headers', () => {
  it('learns each bucket, resets as RFC 3339 timestamps', () => {
    const { seen } = read('anthropic', {
      'anthropic-ratelimit-requests-limit': '50',
      'anthropic-ratelimit-requests-remaining': '49',
      'anthropic-ratelimit-requests-reset': '2026-01-01T00:00:02Z',
      'anthropic-ratelimit-input-tokens-limit': '40000',
      'anthropic-ratelimit-input-tokens-remaining': '39000',
      'anthropic-ratelimit-input-tokens-reset': '2026-01-01T00:00:01.5Z',
      'anthropic-ratelimit-output-tokens-remaining': 'soon',
    });
    expect(seen).toEqual([
      expect.objectContaining({
        name: 'requests',
        refill: BUCKET,
        limit: 50,
        remaining: 49,
        resetMs: 2000,
        resetSlackMs: 1000,
      }),
      expect.objectContaining({
        name: 'input-tokens',
        unit: 'input-tokens',
        remaining: 39000,
        resetMs: 1500,
        resetSlackMs: 100,
      }),
    ]);
  });
});

describe('IETF RateLimit fields', () => {
  it('learns each service limit with its policy (quota, window, unit)', () => {
    const { seen } = read('ietf', {
      'ratelimit-policy':
        '"permin";q=50;w=60, "perhr";q=1000;w=3600, "bytes";q=65535;qu="content-bytes";w=10',
      ratelimit: '"permin";r=12;t=30, "perhr";r=900;t=1800, "bytes";r=1000;t=5',
    });
    expect(seen).toEqual([
      expect.objectContaining({
        name: 'permin',
        unit: 'requests',
        refill: WINDOW,
        limit: 50,
        remaining: 12,
        resetMs: 30_000,
        periodMs: 60_000,
      }),
      expect.objectContaining({
        name: 'perhr',
        limit: 1000,
        remaining: 900,
        resetMs: 1_800_000,
        periodMs: 3_600_000,
      }),
      expect.objectContaining({ name: 'bytes', unit: 'content-bytes', limit: 65535, remaining: 1000 }),
    ]);
  });

  it('reads a field split over several lines, tokens as names, and no policy at all', () => {
    const { seen } = read('ietf', { ratelimit: ['default;r=5;t=2', '"other";r=1'] });
    expect(seen).toEqual([
      expect.objectContaining({ name: 'default', remaining: 5, resetMs: 2000, limit: NaN }),
      expect.objectContaining({ name: 'other', remaining: 1, resetMs: NaN }),
    ]);
  });

  it("skips concurrency quotas and items without r; reads draft -07's dictionary", () => {
    const concurrent = read('ietf', {
      'ratelimit-policy': '"c";q=5;qu="concurrent-requests"',
      ratelimit: '"c";r=1, "x";t=3',
    });
    expect(concurrent.seen).toEqual([]);
    const draft07 = read('ietf', { ratelimit: 'limit=100, remaining=50, reset=5' });
    expect(draft07.seen).toEqual([
      expect.objectContaining({ name: 'ratelimit', limit: 100, remaining: 50, resetMs: 5000 }),
    ]);
  });

  it('ignores malformed fields', () => {
    for (const bad of [
      '"a";r=-1',
      '"a";r=1.5',
      '"a";r="x"',
      '"a";r=1;;',
      'r=',
      '"unterminated',
      '"a";r=5, (',
      '',
    ])
      expect([bad, read('ietf', { ratelimit: bad }).seen]).toEqual([bad, []]);
  });

  it('reads the older RateLimit-Limit / -Remaining / -Reset, a Unix time too', () => {
    expect(
      read('ietf', { 'ratelimit-limit': '100', 'ratelimit-remaining': '7', 'ratelimit-reset': '20' }).seen,
    ).toEqual([
      expect.objectContaining({
        name: 'ratelimit',
        refill: WINDOW,
        limit: 100,
        remaining: 7,
        resetMs: 20_000,
      }),
    ]);
    const epoch = String(NOW / 1000 + 45);
    expect(
      read('ietf', {
        'ratelimit-limit': '100, 100;w=60',
        'ratelimit-remaining': '0',
        'ratelimit-reset': epoch,
      }).seen,
    ).toEqual([expect.objectContaining({ limit: 100, remaining: 0, resetMs: 45_000 })]);
  });
});

describe('Retry-After', () => {
  it('is read on 429 and 503 only, retry-after-ms first', () => {
    expect(read('auto', { 'retry-after': '3' }, 429).retryAfterMs).toBe(3000);
    expect(read('auto', { 'retry-after': '3', 'retry-after-ms': '1200' }, 503).retryAfterMs).toBe(1200);
    expect(read('auto', { 'retry-after': '3' }, 200).retryAfterMs).toBeNaN();
    expect(read('auto', { 'retry-after': 'later' }, 429).retryAfterMs).toBeNaN();
  });
});

describe('headers: auto', () => {
  it('takes the first family present', () => {
    expect(read('auto', { 'x-ratelimit-remaining-requests': '3' }).seen.map((o) => o.name)).toEqual([
      'requests',
    ]);
    expect(read('auto', { 'anthropic-ratelimit-tokens-remaining': '3' }).seen.map((o) => o.name)).toEqual([
      'tokens',
    ]);
    expect(read('auto', { ratelimit: '"p";r=3' }).seen.map((o) => o.name)).toEqual(['p']);
    expect(read('auto', { 'ratelimit-remaining': '3' }).seen.map((o) => o.name)).toEqual(['ratelimit']);
  });

  it('learns nothing of a family its style does not read', () => {
    expect(read('openai', { 'anthropic-ratelimit-requests-remaining': '3' }).seen).toEqual([]);
    expect(read('anthropic', { ratelimit: '"p";r=3' }).seen).toEqual([]);
  });
});

describe('any header values (fuzz, seeded)', () => {
  const NAMES = [
    'x-ratelimit-limit-requests',
    'x-ratelimit-remaining-requests',
    'x-ratelimit-reset-requests',
    'x-ratelimit-remaining-tokens',
    'anthropic-ratelimit-requests-remaining',
    'anthropic-ratelimit-requests-limit',
    'anthropic-ratelimit-requests-reset',
    'ratelimit',
    'ratelimit-policy',
    'ratelimit-remaining',
    'ratelimit-limit',
    'ratelimit-reset',
    'retry-after',
    'retry-after-ms',
  ];
  const PIECES = [
    '0',
    '1',
    '59',
    '-3',
    '1e9',
    '1.5',
    's',
    'ms',
    'm',
    'h',
    '"p"',
    ';r=',
    ';t=',
    ';q=',
    ';w=',
    ',',
    ' ',
    '=',
    ':',
    'T',
    'Z',
    '2026-01-01',
    '99999999999999',
    'Infinity',
    'NaN',
    '\u00b5',
    '(',
    ')',
    '?1',
    '@',
  ];

  it('never throws, and everything learned is sane', () => {
    const random = seeded(7);
    const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)] as T;
    for (let i = 0; i < 5000; i += 1) {
      const headers: IncomingHttpHeaders = {};
      for (let n = Math.floor(random() * 5); n >= 0; n -= 1) {
        let value = '';
        for (let k = Math.floor(random() * 6); k >= 0; k -= 1) value += pick(PIECES);
        headers[pick(NAMES)] = random() < 0.1 ? [value, value] : value;
      }
      for (const style of ['auto', 'openai', 'anthropic', 'ietf'] as const) {
        const { seen, retryAfterMs } = read(style, headers, random() < 0.5 ? 429 : 200);
        for (const o of seen) {
          expect(o.remaining >= 0 && o.remaining <= MAX_QUANTITY).toBe(true);
          expect(Number.isNaN(o.limit) || (o.limit >= o.remaining && o.limit <= MAX_QUANTITY)).toBe(true);
          expect(Number.isNaN(o.resetMs) || (o.resetMs >= 0 && o.resetMs <= MAX_RESET_MS)).toBe(true);
        }
        expect(Number.isNaN(retryAfterMs) || (retryAfterMs >= 0 && retryAfterMs <= MAX_RESET_MS)).toBe(true);
      }
    }
  });
});
