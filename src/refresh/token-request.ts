import pRetry from 'p-retry';
import type { AuthConfig, Config } from '../config/schema.ts';
import { requestTokens, TokenEndpointError, type Grant, type TokenSet } from '../oauth/token-client.ts';
import { endClientSpan, startClientSpan, tracing } from '../observability/tracing.ts';

export interface RetriedRequest {
  auth: AuthConfig;
  grant: Grant;
  refresh: Config['refresh'];
  /** Runs before every attempt (the refresher extends its lease there); may throw to stop. */
  beforeAttempt: (attempt: number) => Promise<void>;
  /** A transient failure will be retried after `delayMs`. */
  onRetry: (attempt: number, delayMs: number, err: TokenEndpointError) => void;
  now?: () => number;
}

/**
 * A token request with the refresh retry policy: transient failures retry with
 * exponential backoff (refresh.minBackoffMs, doubling, no jitter: 100/200/400 ms by
 * default) up to refresh.retries times; a longer Retry-After is honoured up to
 * refresh.maxBackoffMs. Permanent failures are thrown at once.
 */
export function requestWithRetries(request: RetriedRequest): Promise<TokenSet> {
  const { refresh } = request;
  return pRetry(
    async (attempt) => {
      await request.beforeAttempt(attempt);
      const send = () =>
        requestTokens(request.auth, request.grant, {
          timeoutMs: refresh.tokenTimeoutMs,
          defaultExpiresInSeconds: refresh.defaultExpiresInSeconds,
          clockSkewSeconds: refresh.clockSkewSeconds,
          ...(request.now ? { now: request.now } : {}),
        });
      return tracing.enabled && request.auth.tokenUrl ? traced(request, attempt, send) : send();
    },
    {
      retries: refresh.retries,
      minTimeout: refresh.minBackoffMs,
      maxTimeout: refresh.maxBackoffMs,
      factor: 2,
      randomize: false,
      shouldRetry: async ({ error, attemptNumber, retryDelay }) => {
        if (!(error instanceof TokenEndpointError) || !error.transient) return false;
        // p-retry waits retryDelay after this returns; top it up to what Retry-After asked for.
        const wanted = Math.min(error.retryAfterMs ?? 0, refresh.maxBackoffMs);
        const extra = Math.max(0, wanted - retryDelay);
        request.onRetry(attemptNumber + 1, retryDelay + extra, error);
        if (extra > 0) await new Promise((resolve) => setTimeout(resolve, extra));
        return true;
      },
    },
  );
}

/** One token request as a CLIENT span (`POST`, the token endpoint without its query). */
async function traced(
  request: RetriedRequest,
  attempt: number,
  send: () => Promise<TokenSet>,
): Promise<TokenSet> {
  const span = startClientSpan({ method: 'POST', url: request.auth.tokenUrl as string, attempt });
  span.setAttribute('keygate.oauth.grant_type', request.grant.type);
  try {
    const tokens = await send();
    endClientSpan(span, 200);
    return tokens;
  } catch (err) {
    const status = err instanceof TokenEndpointError ? err.status : undefined;
    endClientSpan(span, status, { code: failureCode(err) });
    throw err;
  }
}

/** A stable, secret-free code for a failure: the OAuth error, `http_503`, `timeout`, ... */
export function failureCode(err: unknown): string {
  if (err instanceof TokenEndpointError) {
    if (err.oauthError) return err.oauthError;
    if (err.status !== undefined) return `http_${err.status}`;
    return err.message.replace(/^token endpoint failed: /, '').replace(/\s+/g, '_');
  }
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' ? code : 'error';
}
