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
  /\beyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, // JWTs (callers' access tokens, ID tokens)
];

export const REDACTED = '[redacted]';

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

// Holds a literal every SECRET_VALUE pattern needs; most strings have none and skip the replaces.
const MAY_HOLD_SECRET = /kg_|bearer|basic|vault:v|\b(?:hvs|hvb|s)\.|eyJ/i;

export function scrubString(value: string): string {
  if (!MAY_HOLD_SECRET.test(value)) return value;
  let out = value;
  for (const pattern of SECRET_VALUE) out = out.replace(pattern, REDACTED);
  return out;
}

/** A deep copy of `value` with secret-bearing keys dropped and secret-shaped strings masked. */
export function redact(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return scrubString(value);
  if (typeof value === 'bigint') return value.toString(); // as winston's JSON format writes it
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

// Field names of log entries come from code, so there are few; their verdicts are kept.
const keyVerdicts = new Map<string, boolean>();
const MAX_KEY_VERDICTS = 1024;

function isSecretKeyCached(key: string): boolean {
  let secret = keyVerdicts.get(key);
  if (secret === undefined) {
    secret = isSecretKey(key);
    if (keyVerdicts.size < MAX_KEY_VERDICTS) keyVerdicts.set(key, secret);
  }
  return secret;
}

/**
 * `redact` applied to a log entry in place: its secret-bearing fields deleted, its
 * strings scrubbed, its nested values replaced by redacted copies. A flat entry
 * (the proxy's audit line) costs no copy. Symbol keys (winston's own) are left alone.
 */
export function redactEntry(entry: Record<string, unknown>): void {
  let seen: WeakSet<object> | undefined;
  for (const key of Object.keys(entry)) {
    if (isSecretKeyCached(key)) {
      delete entry[key];
      continue;
    }
    const value = entry[key];
    if (typeof value === 'string') {
      const clean = scrubString(value);
      if (clean !== value) entry[key] = clean;
    } else if (typeof value === 'bigint') {
      entry[key] = value.toString();
    } else if (value !== null && typeof value === 'object') {
      seen ??= new WeakSet<object>([entry]);
      entry[key] = redact(value, 1, seen);
    }
  }
}
