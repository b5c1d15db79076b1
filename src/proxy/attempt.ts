import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { Budgets } from '../budgets/budgets.ts';
import type { ProxyReply, ProxyRequest } from '../http/exchange.ts';
import { upstreamRequestHeaders } from './headers.ts';
import type { RetryPolicy } from './retry-policy.ts';
import type { CallerGone, ProxyState, ReadyState } from './state.ts';
import { UpstreamExchange } from './upstream-exchange.ts';
import type { UpstreamFailure } from './upstream-errors.ts';

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
  /** Learns each answer's rate-limit headers (src/budgets). */
  budgets?: Budgets | undefined;
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
 * One upstream request, dispatched on the integration's undici pool and its answer
 * written to the caller as it arrives (upstream-exchange.ts; reply-from's request
 * building, and later undici's request() stream, cost more than the rest of the proxy:
 * docs/proxy.md#benchmark). The headers are built synchronously with the credential
 * fetched before; whether to forward or retry is decided from the status and headers
 * alone, and a backoff or a refresh is awaited by the caller.
 */
export function sendAttempt(
  request: ProxyRequest,
  reply: ProxyReply,
  state: ProxyState,
  callerGone: CallerGone,
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
  const replayable = body.kind !== 'streaming';
  let timed = false;
  const time = () => {
    if (timed) return;
    timed = true;
    state.upstreamMs += performance.now() - started;
  };
  const verdict = (status: number, responseHeaders: IncomingHttpHeaders): Outcome | undefined => {
    time();
    deps.budgets?.learn(state, status, responseHeaders);
    if (
      status === 401 &&
      deps.canRefresh &&
      replayable &&
      !ready.refreshed &&
      ready.credential.authType !== 'api_key'
    ) {
      return { type: 'refresh' };
    }
    if (status === 401 && ready.refreshed && deps.reauthAfter401?.(state.integration)) {
      return { type: 'reauth' };
    }
    const context = {
      method: request.method,
      attempt: number,
      replayable,
      callerRetrying: ready.callerRetrying,
    };
    const decision = deps.policy.forStatus(status, responseHeaders, context);
    if (!decision.retry) return undefined;
    const reason = decision.reason === 'rate_limited' ? 'rate_limited' : 'server_error';
    return { type: 'retry', delayMs: decision.delayMs, reason };
  };
  return new Promise<Outcome>((settle) => {
    const exchange = new UpstreamExchange(request, reply, ready, callerGone, verdict, (outcome) => {
      time();
      settle(outcome);
    });
    state.exchange = exchange;
    ready.upstream.pool.dispatch(
      {
        path: pathWithQuery(ready, token),
        method: request.method as Dispatcher.HttpMethod,
        headers: headers as Record<string, string | string[]>,
        body: body.kind === 'buffered' ? body.data : body.kind === 'streaming' ? body.open() : null,
      },
      exchange,
    );
  });
}
