import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { FastifyReplyFromHooks } from '@fastify/reply-from';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { replay } from './body.ts';
import { callerResponseHeaders, upstreamRequestHeaders } from './headers.ts';
import type { RetryPolicy } from './retry-policy.ts';
import { scrubResponseHeaders } from './scrub-response.ts';
import type { ProxyState, ReadyState } from './state.ts';
import { classifyUpstreamError, type UpstreamFailure } from './upstream-errors.ts';
import type { Upstreams } from './upstreams.ts';

/** How one attempt ended: answered, or to be tried again after a wait or a refresh. */
export type Outcome =
  | { type: 'sent' }
  | { type: 'retry'; delayMs: number; reason: 'rate_limited' | 'server_error' }
  | { type: 'refresh' }
  /** A 401 after the refresh-and-replay: the tenant must connect again (see src/reauth). */
  | { type: 'reauth' }
  | { type: 'failed'; failure: UpstreamFailure };

export interface AttemptDeps {
  upstreams: Upstreams;
  policy: RetryPolicy;
  /** False without a refresher: a 401 is then passed through. */
  canRefresh: boolean;
  /** True where a 401 that outlived the refresh is answered with a connect link instead of passed through. */
  reauthAfter401?: ((integration: string) => boolean) | undefined;
  /** The state of a request being proxied (set by the plugin's onRequest hook). */
  stateOf: (request: object) => ProxyState;
}

/** What the hooks of the attempt in flight need; one per attempt, held in ProxyState. */
export interface AttemptRun {
  ready: ReadyState;
  number: number;
  replayable: boolean;
  bodyLength: number | undefined;
  token: string;
  started: number;
  signal: AbortSignal;
  /** The upstream's answer headers, held back until onResponse decides to forward them. */
  pending: IncomingHttpHeaders;
  resolve: (outcome: Outcome) => void;
}

const DRAIN_LIMIT = 64 * 1024;

// A response we will not forward: read it off the socket so the connection is reused.
function discard(stream: Readable): void {
  const body = stream as Readable & { dump?: (opts: { limit: number }) => Promise<void> };
  if (body.dump) body.dump({ limit: DRAIN_LIMIT }).catch(() => {});
  else stream.destroy();
}

function queryFor(run: AttemptRun): string {
  const { query, plan } = run.ready;
  const name = plan.injector.query;
  if (name === undefined) return query;
  const injected = `${encodeURIComponent(name)}=${encodeURIComponent(plan.injector.value(run.token))}`;
  return query === '' ? injected : `${query}&${injected}`;
}

/**
 * reply-from hooks, made once per plugin: each reads the attempt in flight from the
 * request's state, so an attempt allocates no closures. All synchronous: the
 * credential was fetched before the attempt, and whether to forward or retry is
 * decided from the status and headers alone; a backoff or a refresh is awaited by
 * the caller of sendAttempt.
 */
export function attemptHooks(deps: AttemptDeps): FastifyReplyFromHooks {
  const runOf = (request: object | undefined) => deps.stateOf(request as object).run as AttemptRun;
  return {
    getUpstream: (request) => runOf(request).ready.upstream.origin,
    queryString: (_search, _url, request) => queryFor(runOf(request)),
    retryDelay: () => null, // Keygate owns retries; see retry-policy.ts
    rewriteRequestHeaders: (request, headers) => {
      const run = runOf(request);
      return upstreamRequestHeaders(
        headers,
        run.ready.plan,
        run.token,
        run.bodyLength,
      ) as IncomingHttpHeaders;
    },
    rewriteHeaders: (headers, request) => {
      const run = runOf(request);
      // The injected secret never reaches the caller in a header (scrub-response.ts).
      run.pending = scrubResponseHeaders(callerResponseHeaders(headers), run.ready) as IncomingHttpHeaders;
      return {};
    },
    onResponse: (request, reply, res) => {
      const state = deps.stateOf(request);
      const run = state.run as AttemptRun;
      state.upstreamMs += performance.now() - run.started;
      const status = res.statusCode ?? 502;
      const { ready } = run;
      if (
        status === 401 &&
        deps.canRefresh &&
        run.replayable &&
        !ready.refreshed &&
        ready.credential.authType !== 'api_key'
      ) {
        discard(res.stream);
        run.resolve({ type: 'refresh' });
        return;
      }
      if (status === 401 && ready.refreshed && deps.reauthAfter401?.(state.integration)) {
        discard(res.stream);
        run.resolve({ type: 'reauth' });
        return;
      }
      const { headers } = res as unknown as { headers: IncomingHttpHeaders };
      const context = {
        method: request.method,
        attempt: run.number,
        replayable: run.replayable,
        callerRetrying: ready.callerRetrying,
      };
      const decision = deps.policy.forStatus(status, headers, context);
      if (decision.retry && !run.signal.aborted) {
        discard(res.stream);
        run.resolve({
          type: 'retry',
          delayMs: decision.delayMs,
          reason: decision.reason === 'rate_limited' ? 'rate_limited' : 'server_error',
        });
        return;
      }
      reply.headers(run.pending);
      reply.send(res.stream);
      run.resolve({ type: 'sent' });
    },
    onError: (reply, { error }) => {
      const state = deps.stateOf(reply.request);
      const run = state.run as AttemptRun;
      state.upstreamMs += performance.now() - run.started;
      run.resolve({ type: 'failed', failure: classifyUpstreamError(error, run.signal.aborted) });
    },
  };
}

/** One upstream request through reply-from, with `hooks` from attemptHooks. */
export function sendAttempt(
  request: FastifyRequest,
  reply: FastifyReply,
  state: ProxyState,
  signal: AbortSignal,
  deps: AttemptDeps,
  hooks: FastifyReplyFromHooks,
): Promise<Outcome> {
  const ready = state.ready as ReadyState;
  state.attempts += 1;
  const { body } = ready;
  request.body =
    body.kind === 'buffered' ? replay(body.data) : body.kind === 'streaming' ? body.open() : undefined;
  return new Promise<Outcome>((resolve) => {
    state.run = {
      ready,
      number: state.attempts,
      replayable: body.kind !== 'streaming',
      bodyLength: body.kind === 'buffered' ? body.data.length : undefined,
      token: ready.token,
      started: performance.now(),
      signal,
      pending: {},
      resolve,
    };
    deps.upstreams.with(ready.upstream, signal, () => reply.from(ready.upstreamPath, hooks));
  });
}
