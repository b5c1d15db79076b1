import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { ProxyReply, ProxyRequest } from '../http/exchange.ts';
import { KeygateError } from '../errors.ts';
import { callerResponseHeaders, upstreamRequestHeaders } from './headers.ts';
import type { RetryPolicy } from './retry-policy.ts';
import { scrubResponseHeaders } from './scrub-response.ts';
import type { ProxyState, ReadyState } from './state.ts';
import { classifyUpstreamError, type UpstreamFailure } from './upstream-errors.ts';

/** How one attempt ended: answered, or to be tried again after a wait or a refresh. */
export type Outcome =
  | { type: 'sent' }
  | { type: 'retry'; delayMs: number; reason: 'rate_limited' | 'server_error' }
  | { type: 'refresh' }
  /** A 401 after the refresh-and-replay: the tenant must connect again (see src/reauth). */
  | { type: 'reauth' }
  | { type: 'failed'; failure: UpstreamFailure };

export interface AttemptDeps {
  policy: RetryPolicy;
  /** False without a refresher: a 401 is then passed through. */
  canRefresh: boolean;
  /** True where a 401 that outlived the refresh is answered with a connect link instead of passed through. */
  reauthAfter401?: ((integration: string) => boolean) | undefined;
}

const DRAIN_LIMIT = 64 * 1024;

// A response we will not forward: read it off the socket so the connection is reused.
function discard(body: Dispatcher.ResponseData['body']): void {
  body.dump({ limit: DRAIN_LIMIT }).catch(() => {});
}

/** The upstream path with the caller's query and, where the integration says so, the injected parameter. */
export function pathWithQuery(
  ready: Pick<ReadyState, 'query' | 'plan' | 'upstreamPath'>,
  token: string,
): string {
  const { query, plan, upstreamPath } = ready;
  const name = plan.injector.query;
  if (name === undefined) return query === '' ? upstreamPath : `${upstreamPath}?${query}`;
  const injected = `${encodeURIComponent(name)}=${encodeURIComponent(plan.injector.value(token))}`;
  return `${upstreamPath}?${query === '' ? injected : `${query}&${injected}`}`;
}

/**
 * One upstream request, sent on the integration's undici pool (reply-from's request
 * building, hooks and URL parsing cost more than the rest of the proxy; see
 * docs/proxy.md#benchmark). The headers are built synchronously with the credential
 * fetched before; whether to forward or retry is decided from the status and headers
 * alone, and a backoff or a refresh is awaited by the caller.
 */
export async function sendAttempt(
  request: ProxyRequest,
  reply: ProxyReply,
  state: ProxyState,
  signal: AbortSignal,
  deps: AttemptDeps,
): Promise<Outcome> {
  const ready = state.ready as ReadyState;
  state.attempts += 1;
  const number = state.attempts;
  const { body, token } = ready;
  const headers = upstreamRequestHeaders(
    request.headers,
    ready.plan,
    token,
    body.kind === 'buffered' ? body.data.length : undefined,
  );
  headers['host'] = ready.upstream.host;
  const started = performance.now();
  let res: Dispatcher.ResponseData;
  try {
    res = await ready.upstream.pool.request({
      path: pathWithQuery(ready, token),
      method: request.method as Dispatcher.HttpMethod,
      headers: headers as Record<string, string | string[]>,
      body: body.kind === 'buffered' ? body.data : body.kind === 'streaming' ? body.open() : null,
      signal,
    });
  } catch (err) {
    state.upstreamMs += performance.now() - started;
    return { type: 'failed', failure: classifyUpstreamError(err, signal.aborted) };
  }
  state.upstreamMs += performance.now() - started;
  if (signal.aborted) {
    res.body.destroy(); // the caller is gone: nothing to forward, nothing to retry
    return { type: 'failed', failure: classifyUpstreamError(undefined, true) };
  }
  const status = res.statusCode;
  const replayable = body.kind !== 'streaming';
  if (
    status === 401 &&
    deps.canRefresh &&
    replayable &&
    !ready.refreshed &&
    ready.credential.authType !== 'api_key'
  ) {
    discard(res.body);
    return { type: 'refresh' };
  }
  if (status === 401 && ready.refreshed && deps.reauthAfter401?.(state.integration)) {
    discard(res.body);
    return { type: 'reauth' };
  }
  const context = {
    method: request.method,
    attempt: number,
    replayable,
    callerRetrying: ready.callerRetrying,
  };
  const decision = deps.policy.forStatus(status, res.headers as IncomingHttpHeaders, context);
  if (decision.retry) {
    discard(res.body);
    const reason = decision.reason === 'rate_limited' ? 'rate_limited' : 'server_error';
    return { type: 'retry', delayMs: decision.delayMs, reason };
  }
  return forward(request, reply, res, ready);
}

/** Sends the upstream's answer to the caller, streamed as it arrives. */
function forward(
  request: ProxyRequest,
  reply: ProxyReply,
  res: Dispatcher.ResponseData,
  ready: ReadyState,
): Outcome {
  try {
    reply.code(res.statusCode);
  } catch {
    res.body.destroy(); // a status Fastify cannot send (under 100 or over 599)
    const error = new KeygateError('upstream_unreachable', {
      message: 'The upstream sent an invalid status.',
    });
    const why = { cause: 'invalid status', errorCode: undefined };
    return { type: 'failed', failure: { error, retryable: false, callerGone: false, ...why } };
  }
  // The one place the upstream's response headers are rewritten for the caller; the
  // injected secret never reaches the caller in a header (scrub-response.ts).
  reply.headers(scrubResponseHeaders(callerResponseHeaders(res.headers), ready));
  // An HTTP/1 connection cannot be reused before its request body was read to the end.
  if (!request.raw.complete) reply.header('connection', 'close');
  reply.send(res.body);
  return { type: 'sent' };
}
