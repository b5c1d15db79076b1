import { KeygateError, isKeygateError } from '../errors.ts';

/** What went wrong talking to the upstream, and whether trying again could help. */
export interface UpstreamFailure {
  error: KeygateError;
  /** A connection-level failure the retry policy may retry (idempotent methods only). */
  retryable: boolean;
  /** The caller hung up; nothing is to be sent. */
  callerGone: boolean;
  /** What an operator reads in the log: dns, refused, reset, unreachable, tls, timeout, ... */
  cause: string;
  /** The innermost error code (ENOTFOUND, ECONNREFUSED, CERT_HAS_EXPIRED, ...), never a message. */
  errorCode: string | undefined;
}

const CAUSES: Readonly<Record<string, string>> = {
  ENOTFOUND: 'dns',
  EAI_AGAIN: 'dns',
  ECONNREFUSED: 'refused',
  ECONNRESET: 'reset',
  EPIPE: 'reset',
  UND_ERR_SOCKET: 'reset',
  UND_ERR_CLOSED: 'reset',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'connect timeout',
  UND_ERR_HEADERS_TIMEOUT: 'headers timeout',
  UND_ERR_BODY_TIMEOUT: 'body timeout',
};

function causeOf(all: string[]): string {
  for (const code of all) {
    if (TLS.test(code)) return 'tls';
    const cause = CAUSES[code];
    if (cause) return cause;
  }
  return 'other';
}

/**
 * The log line of an upstream that failed: which host, and why (DNS, refused, TLS, ...).
 * Only the origin and error codes: no path, query, header or upstream text.
 */
export function upstreamFailureLog(failure: UpstreamFailure, origin: string): Record<string, unknown> {
  return {
    event: 'upstream_failed',
    errorCode: failure.error.code,
    host: new URL(origin).host,
    cause: failure.cause,
    upstreamErrorCode: failure.errorCode,
  };
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
const TIMEOUT_HEADERS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const TIMEOUT_CONNECT = 'UND_ERR_CONNECT_TIMEOUT';
const INVALID_ARG = 'UND_ERR_INVALID_ARG';
const ABORTED = new Set(['UND_ERR_ABORTED', 'ABORT_ERR']);
// OpenSSL verification failures: a configuration problem, never worth a retry.
const TLS = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|ERR_SSL/;

// An error can carry the one it stems from as its cause (a socket error under undici's, a
// Keygate error under a failed body stream); the most specific code is innermost.
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

/** Maps an undici (or Node socket) error to the Keygate error the caller gets. Messages hold no upstream text. */
export function classifyUpstreamError(err: unknown, callerGone: boolean): UpstreamFailure {
  const own = keygateCause(err); // e.g. a streamed body that went over the limit
  const all = codes(err);
  const why = { cause: own ? 'keygate' : causeOf(all), errorCode: all[0] };
  if (own) return { error: own, retryable: false, callerGone, ...why };
  if (callerGone || all.some((c) => ABORTED.has(c))) {
    return { error: new KeygateError('upstream_unreachable'), retryable: false, callerGone: true, ...why };
  }
  if (all.includes(INVALID_ARG)) {
    // undici refused to build the request (a stored value HTTP cannot carry): Keygate's
    // fault, not the upstream's, and worth an error line (the cause names the field, not its value).
    const message = 'The upstream request could not be built from the stored credential.';
    return {
      error: new KeygateError('internal_error', { message, cause: err }),
      retryable: false,
      callerGone,
      ...why,
    };
  }
  if (all.some((c) => TLS.test(c))) {
    const message = "The upstream's TLS certificate could not be verified.";
    return {
      error: new KeygateError('upstream_unreachable', { message }),
      retryable: false,
      callerGone,
      ...why,
    };
  }
  if (all.includes(TIMEOUT_CONNECT)) {
    const message = 'The upstream did not accept a connection in time.';
    return { error: new KeygateError('upstream_timeout', { message }), retryable: true, callerGone, ...why };
  }
  if (all.some((c) => TIMEOUT_HEADERS.has(c))) {
    return { error: new KeygateError('upstream_timeout'), retryable: false, callerGone, ...why };
  }
  return {
    error: new KeygateError('upstream_unreachable'),
    retryable: all.some((c) => CONNECTION.has(c)),
    callerGone,
    ...why,
  };
}
