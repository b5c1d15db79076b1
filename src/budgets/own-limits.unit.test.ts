import { describe, expect, it } from 'vitest';
import { isKeygateError, type KeygateError } from '../errors.ts';
import { OwnLimits } from './own-limits.ts';

function refusal(fn: () => void): KeygateError | undefined {
  try {
    fn();
  } catch (err) {
    if (isKeygateError(err, 'rate_limited')) return err;
    throw err;
  }
  return undefined;
}

describe('OwnLimits', () => {
  const key = (id: string, requestsPerMinute?: number) => ({
    id,
    ...(requestsPerMinute === undefined ? {} : { limits: { requestsPerMinute } }),
  });

  it("lets a key's minute go at once, then one request per 60 s / limit", () => {
    const limits = new OwnLimits({});
    for (let i = 0; i < 3; i += 1) limits.check('acme', key('k1', 3), 0);
    const refused = refusal(() => limits.check('acme', key('k1', 3), 0));
    expect(refused).toMatchObject({
      statusCode: 429,
      retryAfter: 20,
      headers: { ratelimit: '"key";r=0;t=20', 'ratelimit-policy': '"key";q=3;w=60' },
    });
    expect(refusal(() => limits.check('acme', key('k1', 3), 19_999))).toBeDefined();
    expect(refusal(() => limits.check('acme', key('k1', 3), 20_000))).toBeUndefined();
    // Another key, and a key without limits, are not affected.
    expect(refusal(() => limits.check('acme', key('k2', 3), 0))).toBeUndefined();
    for (let i = 0; i < 100; i += 1) limits.check('acme', key('free'), 0);
  });

  it("counts a tenant's requests across its keys, and a refusal by one limit costs the other nothing", () => {
    const limits = new OwnLimits({ acme: { limits: { requestsPerMinute: 2 } } });
    limits.check('acme', key('a'), 0);
    limits.check('acme', key('b', 10), 0);
    const refused = refusal(() => limits.check('acme', key('b', 10), 0));
    expect(refused?.headers).toEqual({
      ratelimit: '"tenant";r=0;t=30',
      'ratelimit-policy': '"tenant";q=2;w=60',
    });
    // A request the key's own limit refuses is not charged to the tenant.
    const wide = new OwnLimits({ acme: { limits: { requestsPerMinute: 5 } } });
    wide.check('acme', key('one', 1), 0);
    for (let i = 0; i < 3; i += 1)
      expect(refusal(() => wide.check('acme', key('one', 1), 0))?.headers).toMatchObject({
        'ratelimit-policy': '"key";q=1;w=60',
      });
    for (let i = 0; i < 4; i += 1) wide.check('acme', key('other'), 0);
    expect(refusal(() => wide.check('acme', key('other'), 0))?.headers).toMatchObject({
      'ratelimit-policy': '"tenant";q=5;w=60',
    });
    expect(refusal(() => limits.check('other', key('c'), 0))).toBeUndefined();
  });

  it('starts over when a key comes back with another limit', () => {
    const limits = new OwnLimits({});
    limits.check('t', key('k', 1), 0);
    expect(refusal(() => limits.check('t', key('k', 1), 0))).toBeDefined();
    expect(refusal(() => limits.check('t', key('k', 5), 0))).toBeUndefined();
  });
});
