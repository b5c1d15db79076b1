import type { ClaimSource } from '../config/callers.ts';

/** A claim's value by name or path into nested objects; undefined when absent. */
export function claimAt(payload: Record<string, unknown>, claim: string | readonly string[]): unknown {
  if (typeof claim === 'string') return payload[claim];
  let value: unknown = payload;
  for (const name of claim) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[name];
  }
  return value;
}

/** Reads one mapped value (tenant, account) from a claim: a string (or number) claim, through its pattern. */
export function compileClaimSource(
  source: ClaimSource,
): (payload: Record<string, unknown>) => string | undefined {
  const pattern = source.pattern === undefined ? undefined : new RegExp(source.pattern);
  return (payload) => {
    const raw = claimAt(payload, source.claim);
    const value = typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : raw;
    if (typeof value !== 'string' || value === '') return undefined;
    if (pattern === undefined) return value;
    const captured = pattern.exec(value)?.[1];
    return captured === undefined || captured === '' ? undefined : captured;
  };
}

/** The scopes a token holds: `scope` (RFC 8693/9068, space-separated) and `scp` (array or string). */
export function scopesOf(payload: Record<string, unknown>, granted: readonly string[] = []): Set<string> {
  const scopes = new Set(granted);
  const { scope, scp } = payload;
  if (typeof scope === 'string') for (const s of scope.split(' ')) if (s !== '') scopes.add(s);
  if (typeof scp === 'string') for (const s of scp.split(' ')) if (s !== '') scopes.add(s);
  if (Array.isArray(scp)) for (const s of scp) if (typeof s === 'string' && s !== '') scopes.add(s);
  return scopes;
}

/** The `aud` claim as a list (RFC 7519 allows a string or an array of strings). */
export function audiencesOf(aud: unknown): string[] {
  if (typeof aud === 'string') return [aud];
  return Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
}

/** A `typ` header value as RFC 7515 §4.1.9 compares it: case-insensitive, `application/` implied. */
export const normaliseTyp = (typ: string): string => {
  const lower = typ.toLowerCase();
  return lower.includes('/') ? lower : `application/${lower}`;
};
