import { injectTraceContext, startClientSpan, type Span } from '../observability/tracing.ts';
import type { ProxyState, ReadyState } from './state.ts';

/**
 * The CLIENT span of one upstream attempt (with tracing on: `state.span` is set), child of
 * the request's span, its `traceparent` written into the upstream request's headers in
 * place of the caller's. `url.full` has the upstream path, never the query (where an
 * injected key may be). It ends at the answer's head (endClientSpan): a forwarded stream
 * goes on under the request's span.
 */
export function startAttemptSpan(
  state: ProxyState,
  method: string,
  headers: Record<string, string | string[] | number | undefined>,
): Span {
  const ready = state.ready as ReadyState;
  const span = startClientSpan(
    { method, url: `${ready.upstream.origin}${ready.upstreamPath}`, attempt: state.attempts },
    state, // the request's CredentialRef: keygate.tenant, .integration, .account
    state.span,
  );
  injectTraceContext(span, headers as Record<string, string | string[]>);
  return span;
}
