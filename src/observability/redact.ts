/**
 * Drops secret-bearing fields wherever they are nested, and masks secret-shaped
 * substrings in what is left. Applied to every log entry; also used for anything
 * else that leaves the process (events, error details).
 */
const SECRET_KEY =
  /token|secret|password|passwd|authorization|cookie|api[-_]?key|apikey|ciphertext|plaintext|private[-_]?key|bearer|signature|verifier|^key$/i;

const SECRET_VALUE: readonly RegExp[] = [
  /kg_[A-Za-z0-9]+\.[A-Za-z0-9_-]+/g, // Keygate keys
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, // auth header values
  /\bvault:v\d+:[A-Za-z0-9+/=]+/g, // Transit ciphertext
  /\b(hvs|hvb|s)\.[A-Za-z0-9]{20,}/g, // Vault / OpenBao tokens
];

export const REDACTED = '[redacted]';

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

export function scrubString(value: string): string {
  let out = value;
  for (const pattern of SECRET_VALUE) out = out.replace(pattern, REDACTED);
  return out;
}

/** A deep copy of `value` with secret-bearing keys dropped and secret-shaped strings masked. */
export function redact(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return scrubString(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 12 || seen.has(value)) return '[truncated]';
  seen.add(value);
  if (value instanceof Error) return redactError(value, depth, seen);
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1, seen));
  if (value instanceof Date) return value.toISOString();
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (isSecretKey(key)) continue;
    out[key] = redact(item, depth + 1, seen);
  }
  return out;
}

// Errors from HTTP clients carry request configs (headers with tokens) and responses;
// keep only what identifies the failure.
function redactError(err: Error, depth: number, seen: WeakSet<object>): Record<string, unknown> {
  const out: Record<string, unknown> = { name: err.name, message: scrubString(err.message) };
  const extra = err as Error & { code?: unknown; statusCode?: unknown; status?: unknown };
  if (typeof extra.code === 'string' || typeof extra.code === 'number') out['code'] = extra.code;
  if (typeof extra.statusCode === 'number') out['statusCode'] = extra.statusCode;
  if (typeof extra.status === 'number') out['status'] = extra.status;
  if (err.cause !== undefined) out['cause'] = redact(err.cause, depth + 1, seen);
  return out;
}
