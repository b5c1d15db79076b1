import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { replay } from './body.ts';
import { callerResponseHeaders, upstreamRequestHeaders } from './headers.ts';
import type { RetryPolicy } from './retry-policy.ts';
import type { ProxyState, ReadyState } from './state.ts';
import { classifyUpstreamError, type UpstreamFailure } from './upstream-errors.ts';
import type { Upstreams } from './upstreams.ts';

/** How one attempt ended: answered, or to be tried again after a wait or a refresh. */
export type Outcome =
  | { type: 'sent' }
  | { type: 'retry'; delayMs: number }
  | { type: 'refresh' }
  | { type: 'failed'; failure: UpstreamFailure };

export interface AttemptDeps {
  upstreams: Upstreams;
  policy: RetryPolicy;
  /** False without a refresher: a 401 is then passed through. */
  canRefresh: boolean;
}

const DRAIN_LIMIT = 64 * 1024;

// A response we will not forward: read it off the socket so the connection is reused.
function discard(stream: Readable): void {
  const body = stream as Readable & { dump?: (opts: { limit: number }) => Promise<void> };
  if (body.dump) body.dump({ limit: DRAIN_LIMIT }).catch(() => {});
  else stream.destroy();
}

function queryFor(ready: ReadyState, token: string): string {
  const name = ready.plan.injector.query;
  if (name === undefined) return ready.query;
  const injected = `${encodeURIComponent(name)}=${encodeURIComponent(ready.plan.injector.value(token))}`;
  return ready.query === '' ? injected : `${ready.query}&${injected}`;
}

/**
 * One upstream request through reply-from. The decision to forward or retry is
 * taken synchronously in onResponse from the status and headers; anything that
 * needs awaiting (a backoff, a refresh) is left to the caller of this function.
 */
export function sendAttempt(
  request: FastifyRequest,
  reply: FastifyReply,
  state: ProxyState,
  ready: ReadyState,
  signal: AbortSignal,
  deps: AttemptDeps,
): Promise<Outcome> {
  state.attempts += 1;
  const attempt = state.attempts;
  const body = ready.body;
  const replayable = body.kind !== 'streaming';
  request.body =
    body.kind === 'buffered' ? replay(body.data) : body.kind === 'streaming' ? body.open() : undefined;
  const bodyLength = body.kind === 'buffered' ? body.data.length : undefined;
  const token = ready.token;
  const started = performance.now();
  let pending: IncomingHttpHeaders = {};

  return new Promise<Outcome>((resolve) => {
    deps.upstreams.with(ready.upstream, signal, () =>
      reply.from(ready.upstreamPath, {
        getUpstream: () => ready.upstream.origin,
        queryString: () => queryFor(ready, token),
        retryDelay: () => null, // Keygate owns retries; see retry-policy.ts
        rewriteRequestHeaders: (_req, headers) =>
          upstreamRequestHeaders(headers, ready.plan, token, bodyLength) as IncomingHttpHeaders,
        // Held back until onResponse knows whether this answer is forwarded at all.
        rewriteHeaders: (headers) => {
          pending = callerResponseHeaders(headers) as IncomingHttpHeaders;
          return {};
        },
        onResponse: (_req, rep, res) => {
          state.upstreamMs += performance.now() - started;
          const status = res.statusCode ?? 502;
          if (
            status === 401 &&
            deps.canRefresh &&
            replayable &&
            !ready.refreshed &&
            ready.credential.authType !== 'api_key'
          ) {
            discard(res.stream);
            resolve({ type: 'refresh' });
            return;
          }
          const { headers } = res as unknown as { headers: IncomingHttpHeaders };
          const decision = deps.policy.forStatus(status, headers, {
            method: request.method,
            attempt,
            replayable,
          });
          if (decision.retry && !signal.aborted) {
            discard(res.stream);
            resolve({ type: 'retry', delayMs: decision.delayMs });
            return;
          }
          rep.headers(pending);
          rep.send(res.stream);
          resolve({ type: 'sent' });
        },
        onError: (_rep, { error }) => {
          state.upstreamMs += performance.now() - started;
          resolve({ type: 'failed', failure: classifyUpstreamError(error, signal.aborted) });
        },
      }),
    );
  });
}
