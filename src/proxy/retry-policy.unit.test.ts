import { describe, expect, it } from 'vitest';
import { RetryPolicy, requestedWaitMs } from './retry-policy.ts';

const proxy = {
  maxBodyBytes: 1,
  maxReplayBodyBytes: 1,
  maxAttempts: 3,
  maxRetryAfterSeconds: 10,
  backoffBaseMs: 100,
  backoffMaxMs: 1000,
  callerRetryCountHeaders: ['X-Stainless-Retry-Count'],
  keyCacheTtlSeconds: 30,
  keyCacheMaxEntries: 10,
  upstream: {
    connections: 1,
    keepAliveTimeoutMs: 1,
    connectTimeoutMs: 1,
    headersTimeoutMs: 1,
    bodyTimeoutMs: 1,
  },
};
const ctx = (method: string, attempt = 1, replayable = true, callerRetrying = false) => ({
  method,
  attempt,
  replayable,
  callerRetrying,
});

describe('requestedWaitMs', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('reads seconds, HTTP dates and retry-after-ms', () => {
    expect(requestedWaitMs({ 'retry-after': '3' }, now)).toBe(3000);
    expect(requestedWaitMs({ 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }, now)).toBe(5000);
    expect(requestedWaitMs({ 'retry-after': 'Wed, 31 Dec 2025 00:00:00 GMT' }, now)).toBe(0);
    expect(requestedWaitMs({ 'retry-after-ms': '250', 'retry-after': '9' }, now)).toBe(250);
    expect(requestedWaitMs({ 'retry-after': 'soon' }, now)).toBeUndefined();
    expect(requestedWaitMs({}, now)).toBeUndefined();
  });
});

describe('RetryPolicy', () => {
  const policy = new RetryPolicy(proxy, () => 0.5);

  it('retries 429 for any method, after the requested wait', () => {
    expect(policy.forStatus(429, { 'retry-after': '2' }, ctx('POST'))).toEqual({
      retry: true,
      delayMs: 2000,
      reason: 'rate_limited',
    });
  });

  it('passes a 429 through at once when the wait is over the cap, or attempts are spent', () => {
    expect(policy.forStatus(429, { 'retry-after': '11' }, ctx('GET'))).toEqual({ retry: false });
    expect(policy.forStatus(429, {}, ctx('GET', 3))).toEqual({ retry: false });
    expect(policy.forStatus(429, {}, ctx('GET', 1, false))).toEqual({ retry: false });
  });

  it('backs off exponentially with full jitter when no wait is given', () => {
    expect(policy.forStatus(429, {}, ctx('GET', 1))).toMatchObject({ delayMs: 50 });
    expect(policy.forStatus(503, {}, ctx('GET', 2))).toMatchObject({ delayMs: 100 });
    expect(new RetryPolicy(proxy, () => 0.999).backoffMs(10)).toBe(999);
  });

  it('retries 5xx and connection errors only for idempotent methods', () => {
    expect(policy.forStatus(502, {}, ctx('PUT')).retry).toBe(true);
    expect(policy.forStatus(502, {}, ctx('POST')).retry).toBe(false);
    expect(policy.forStatus(501, {}, ctx('GET')).retry).toBe(false);
    expect(policy.forStatus(404, {}, ctx('GET')).retry).toBe(false);
    expect(policy.forConnectionError(ctx('DELETE')).retry).toBe(true);
    expect(policy.forConnectionError(ctx('PATCH')).retry).toBe(false);
    expect(policy.forConnectionError(ctx('GET', 3)).retry).toBe(false);
  });

  it("makes no retry of its own when the caller's request is a client's retry", () => {
    expect(policy.callerIsRetrying({ 'x-stainless-retry-count': '0' })).toBe(false);
    expect(policy.callerIsRetrying({ 'x-stainless-retry-count': '2' })).toBe(true);
    expect(policy.callerIsRetrying({ 'x-stainless-retry-count': 'many' })).toBe(false);
    expect(policy.callerIsRetrying({})).toBe(false);
    const again = ctx('GET', 1, true, true);
    expect(policy.forStatus(429, { 'retry-after': '1' }, again)).toEqual({ retry: false });
    expect(policy.forStatus(503, {}, again)).toEqual({ retry: false });
    expect(policy.forConnectionError(again)).toEqual({ retry: false });
  });
});
