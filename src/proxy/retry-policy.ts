import type { Config } from '../config/schema.ts';

type Headers = Record<string, string | string[] | undefined>;

/** Methods that may be sent twice without a second effect (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
const RETRYABLE_5XX = new Set([500, 502, 503, 504]);

export type Decision =
  { retry: false } | { retry: true; delayMs: number; reason: 'rate_limited' | 'server_error' | 'connection' };

export interface AttemptContext {
  method: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** False when the body was streamed and cannot be sent again. */
  replayable: boolean;
  /** The caller's request is itself a retry by a client that retries (see callerIsRetrying). */
  callerRetrying: boolean;
}

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/**
 * How long the upstream asks us to wait, in ms: `retry-after-ms` (OpenAI, Anthropic),
 * else `Retry-After` as seconds or as an HTTP date. Undefined when absent or unreadable.
 */
export function requestedWaitMs(headers: Headers, now = Date.now()): number | undefined {
  const ms = first(headers['retry-after-ms'])?.trim();
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return Number(ms);
  const after = first(headers['retry-after'])?.trim();
  if (!after) return undefined;
  if (/^\d+(\.\d+)?$/.test(after)) return Number(after) * 1000;
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Keygate's retry policy (undici's pools retry nothing themselves): 429 honours the upstream's wait up
 * to a cap and is retried for any method, since the request was not processed; 5xx
 * and connection errors are retried only for idempotent methods. Without a requested
 * wait, exponential backoff with full jitter. Attempts are bounded.
 *
 * So that Keygate's retries and a client SDK's add up rather than multiply, a request
 * that says it is already a client's retry (`x-stainless-retry-count: 1` from the
 * OpenAI and Anthropic SDKs) gets one attempt: its 429 or 5xx goes straight back, with
 * its Retry-After, to the client that is counting. A 429 asking for a wait beyond the
 * cap goes back at once too. A 3-attempt SDK over a 429 that never clears then costs
 * Keygate's 3 attempts plus 2, not 3 × 3.
 */
export class RetryPolicy {
  readonly #maxAttempts: number;
  readonly #maxWaitMs: number;
  readonly #baseMs: number;
  readonly #capMs: number;
  readonly #random: () => number;
  readonly #retryCountHeaders: readonly string[];

  constructor(proxy: Config['proxy'], random: () => number = Math.random) {
    this.#maxAttempts = proxy.maxAttempts;
    this.#maxWaitMs = proxy.maxRetryAfterSeconds * 1000;
    this.#baseMs = proxy.backoffBaseMs;
    this.#capMs = proxy.backoffMaxMs;
    this.#random = random;
    this.#retryCountHeaders = proxy.callerRetryCountHeaders.map((h) => h.toLowerCase());
  }

  /** True when a retry-count header of the caller's request says this is a retry (a count above 0). */
  callerIsRetrying(headers: Headers): boolean {
    for (const name of this.#retryCountHeaders) {
      const count = first(headers[name])?.trim();
      if (count !== undefined && /^\d+$/.test(count) && Number(count) > 0) return true;
    }
    return false;
  }

  /** Full jitter: uniform in [0, min(cap, base·2^(attempt-1))]. */
  backoffMs(attempt: number): number {
    const ceiling = Math.min(this.#capMs, this.#baseMs * 2 ** Math.max(0, attempt - 1));
    return Math.floor(this.#random() * ceiling);
  }

  forStatus(status: number, headers: Headers, ctx: AttemptContext, now = Date.now()): Decision {
    const rateLimited = status === 429;
    if (!rateLimited && !RETRYABLE_5XX.has(status)) return { retry: false };
    if (!ctx.replayable || ctx.callerRetrying || ctx.attempt >= this.#maxAttempts) return { retry: false };
    if (!rateLimited && !IDEMPOTENT.has(ctx.method)) return { retry: false };
    const wait = requestedWaitMs(headers, now);
    // A wait beyond the cap is passed through at once: the caller knows best whether to wait that long.
    if (wait !== undefined && wait > this.#maxWaitMs) return { retry: false };
    return {
      retry: true,
      delayMs: wait ?? this.backoffMs(ctx.attempt),
      reason: rateLimited ? 'rate_limited' : 'server_error',
    };
  }

  forConnectionError(ctx: AttemptContext): Decision {
    if (
      !ctx.replayable ||
      ctx.callerRetrying ||
      ctx.attempt >= this.#maxAttempts ||
      !IDEMPOTENT.has(ctx.method)
    ) {
      return { retry: false };
    }
    return { retry: true, delayMs: this.backoffMs(ctx.attempt), reason: 'connection' };
  }
}
