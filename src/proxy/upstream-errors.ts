import { KeygateError, isKeygateError } from '../errors.ts';

/** What went wrong talking to the upstream, and whether trying again could help. */
export interface UpstreamFailure {
  error: KeygateError;
  /** A connection-level failure the retry policy may retry (idempotent methods only). */
  retryable: boolean;
  /** The caller hung up; nothing is to be sent. */
  callerGone: boolean;
}

const CONNECTION = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);
const TIMEOUT_HEADERS = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'FST_REPLY_FROM_GATEWAY_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);
const TIMEOUT_CONNECT = 'UND_ERR_CONNECT_TIMEOUT';
const INVALID_ARG = 'UND_ERR_INVALID_ARG';
const ABORTED = new Set(['UND_ERR_ABORTED', 'ABORT_ERR']);
// OpenSSL verification failures: a configuration problem, never worth a retry.
const TLS = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|ERR_SSL/;

// reply-from wraps undici's error (sometimes twice); the most specific code is innermost.
function codes(err: unknown): string[] {
  const out: string[] = [];
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth += 1) {
    const { code, name } = e as { code?: unknown; name?: unknown };
    if (typeof code === 'string') out.push(code);
    if (name === 'AbortError') out.push('ABORT_ERR');
  }
  return out.reverse();
}

function keygateCause(err: unknown): KeygateError | undefined {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth += 1) {
    if (isKeygateError(e)) return e;
  }
  return undefined;
}

/** Maps a reply-from/undici error to the Keygate error the caller gets. Messages hold no upstream text. */
export function classifyUpstreamError(err: unknown, callerGone: boolean): UpstreamFailure {
  const own = keygateCause(err); // e.g. a streamed body that went over the limit
  if (own) return { error: own, retryable: false, callerGone };
  const all = codes(err);
  if (callerGone || all.some((c) => ABORTED.has(c))) {
    return { error: new KeygateError('upstream_unreachable'), retryable: false, callerGone: true };
  }
  if (all.includes(INVALID_ARG)) {
    // undici refused to build the request (a stored value HTTP cannot carry): Keygate's
    // fault, not the upstream's, and worth an error line (the cause names the field, not its value).
    const message = 'The upstream request could not be built from the stored credential.';
    return {
      error: new KeygateError('internal_error', { message, cause: err }),
      retryable: false,
      callerGone,
    };
  }
  if (all.some((c) => TLS.test(c))) {
    const message = "The upstream's TLS certificate could not be verified.";
    return { error: new KeygateError('upstream_unreachable', { message }), retryable: false, callerGone };
  }
  if (all.includes(TIMEOUT_CONNECT)) {
    const message = 'The upstream did not accept a connection in time.';
    return { error: new KeygateError('upstream_timeout', { message }), retryable: true, callerGone };
  }
  if (all.some((c) => TIMEOUT_HEADERS.has(c))) {
    return { error: new KeygateError('upstream_timeout'), retryable: false, callerGone };
  }
  return {
    error: new KeygateError('upstream_unreachable'),
    retryable: all.some((c) => CONNECTION.has(c)),
    callerGone,
  };
}
