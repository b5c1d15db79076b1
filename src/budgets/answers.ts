import { serializeList, type Parameters } from 'structured-headers';
import { KeygateError } from '../errors.ts';

/** Seconds for Retry-After and the RateLimit `t`: whole, at least 1 (a refusal is never "retry now"). */
export function retrySeconds(ms: number, fallbackMs: number): number {
  const wait = Number.isFinite(ms) ? ms : fallbackMs;
  return Math.max(1, Math.ceil(wait / 1000));
}

export interface LimitFields {
  /** The policy's name in the fields: the quota's (`requests`, an IETF policy's), or `key` / `tenant`. */
  name: string;
  /** The quota, when known. */
  quota: number;
  /** Its window in seconds, when known. */
  windowSeconds: number;
  /** Its unit when not requests. */
  unit?: string | undefined;
  remaining: number;
  resetSeconds: number;
}

/**
 * The IETF `RateLimit` and `RateLimit-Policy` fields (draft-ietf-httpapi-ratelimit-headers)
 * for an answer Keygate makes itself, serialized by `structured-headers`.
 */
export function rateLimitFields(f: LimitFields): Record<string, string> {
  const limit: Parameters = new Map<string, number>([
    ['r', Math.max(0, Math.floor(f.remaining))],
    ['t', Math.max(0, Math.ceil(f.resetSeconds))],
  ]);
  const fields: Record<string, string> = { ratelimit: serializeList([[f.name, limit]]) };
  if (Number.isFinite(f.quota)) {
    const policy: Parameters = new Map<string, number | string>([['q', Math.floor(f.quota)]]);
    if (f.unit !== undefined && f.unit !== 'requests') policy.set('qu', f.unit);
    if (Number.isFinite(f.windowSeconds) && f.windowSeconds > 0) policy.set('w', Math.ceil(f.windowSeconds));
    fields['ratelimit-policy'] = serializeList([[f.name, policy]]);
  }
  return fields;
}

/** 429 upstream_budget_exhausted: the provider is not called. */
export function budgetExhausted(f: Omit<LimitFields, 'remaining'>): KeygateError {
  return new KeygateError('upstream_budget_exhausted', {
    retryAfter: f.resetSeconds,
    headers: rateLimitFields({ ...f, remaining: 0 }),
  });
}

/** 429 rate_limited: a key's or a tenant's own limit. */
export function rateLimited(f: LimitFields): KeygateError {
  return new KeygateError('rate_limited', { retryAfter: f.resetSeconds, headers: rateLimitFields(f) });
}
