import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { ProxyReply, ProxyRequest } from '../http/exchange.ts';
import { upstreamRequestHeaders } from './headers.ts';
import { endClientSpan } from '../observability/tracing.ts';
import { startAttemptSpan } from './traces.ts';
import type { ProxyPipeline } from './pipeline.ts';
import type { ProxyState, ReadyState } from './state.ts';
import { UpstreamExchange } from './upstream-exchange.ts';
import type { Outcome } from './outcome.ts';

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
 * alone, and `done` gets the outcome: no promise per attempt (most are answered at once).
 */
export function sendAttempt(
  request: ProxyRequest,
  reply: ProxyReply,
  state: ProxyState,
  pipeline: ProxyPipeline,
  done: (outcome: Outcome) => void,
): void {
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
  const span = state.span && startAttemptSpan(state, request.method, headers);
  let answered = 0;
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
    answered = status;
    pipeline.learn(state, status, responseHeaders);
    if (status === 401) {
      const next = pipeline.onRejected(state, replayable);
      if (next !== undefined) return { type: next };
    }
    const context = {
      method: request.method,
      attempt: number,
      replayable,
      callerRetrying: ready.callerRetrying,
    };
    const decision = pipeline.policy.forStatus(status, responseHeaders, context);
    if (!decision.retry) return undefined;
    const reason = decision.reason === 'rate_limited' ? 'rate_limited' : 'server_error';
    return { type: 'retry', delayMs: decision.delayMs, reason };
  };
  const exchange = new UpstreamExchange(request, reply, ready, state.callerGone, verdict, (outcome) => {
    time();
    if (span)
      endClientSpan(
        span,
        answered || undefined,
        outcome.type === 'failed' ? outcome.failure.error : undefined,
      );
    done(outcome);
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
}
