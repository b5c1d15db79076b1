import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Budgets } from '../budgets/budgets.ts';
import type { OwnLimits } from '../budgets/own-limits.ts';
import type { Config } from '../config/schema.ts';
import { KeygateError } from '../errors.ts';
import { answerError, logFault, sendError } from '../http/error-handler.ts';
import type { RawReply, RawRequest, ProxyReply, ProxyRequest } from '../http/exchange.ts';
import type { FrontDoor } from '../http/front-door.ts';
import type { CallerAuthenticator } from '../identity/caller.ts';
import type { Logger } from '../observability/logger.ts';
import { infoLineWriter } from '../observability/hot-line.ts';
import type { ReauthResponder } from '../reauth/responder.ts';
import { sendAttempt } from './attempt.ts';
import { CALLER_CLOSED } from './audit.ts';
import { planHeaders, type UpstreamHeaderPlan } from './headers.ts';
import { compileInjector } from './inject.ts';
import { ProxyMetrics } from './metrics.ts';
import { leanPath } from './lean-path.ts';
import { splitProxyUrl, type ProxyTarget } from './path.ts';
import { ProxyPipeline, type PipelineDeps } from './pipeline.ts';
import type { CredentialRefresher } from './refresher.ts';
import { RetryPolicy } from './retry-policy.ts';
import { upstreamFailureLog } from './upstream-errors.ts';
import type { Outcome } from './outcome.ts';
import type { ProxyState, ReadyState } from './state.ts';
import { Upstreams } from './upstreams.ts';
import { WebSocketProxy } from './websocket.ts';

export interface ProxyDeps {
  config: Readonly<Config>;
  logger: Logger;
  store: PipelineDeps['store'];
  /** Who calls: the proxy's first step. */
  callers: CallerAuthenticator;
  /** The scheduler's refresh; without it an upstream 401 is passed through. */
  refresher?: CredentialRefresher | undefined;
  /** Where the proxy's metrics go (GET /metrics); none without it. */
  metrics?: Registry | undefined;
  /** Answers a caller whose credential is missing or dead with a way to reconnect; without it, the plain error. */
  reauth?: ReauthResponder | undefined;
  /** Where the lean path takes the requests it can serve before Fastify's router; without it, all go through Fastify. */
  front?: FrontDoor | undefined;
  /** Upstream budgets learned from answers (src/budgets); without them nothing is held. */
  budgets?: Budgets | undefined;
  /** Keygate's own per-key and per-tenant limits; without them none apply. */
  limits?: OwnLimits | undefined;
}

// Per-request state lives on the request (a Fastify decoration): a WeakMap keyed by
// short-lived requests costs the garbage collector ephemeron work on every scavenge.
const STATE = 'keygateProxy';
const stateOf = (request: object) => (request as Record<typeof STATE, ProxyState>)[STATE];

/**
 * `ANY /proxy/{tenant}/{integration}/{path}` and its WebSocket upgrades. Both run the
 * steps of pipeline.ts; over HTTP the upstream request is then built synchronously with
 * the credential injected, retried or replayed as the answer says, and the answer
 * streamed back. Encapsulated: its body parser and hooks stay inside this plugin.
 */
export async function proxyRoutes(app: FastifyInstance, deps: ProxyDeps): Promise<void> {
  const { config, logger } = deps;
  const metrics = deps.metrics && new ProxyMetrics(deps.metrics, Object.keys(config.integrations));
  const upstreams = new Upstreams(config);
  const plans = new Map<string, UpstreamHeaderPlan>(
    Object.entries(config.integrations).map(([name, i]) => [
      name,
      planHeaders(compileInjector(i), i.headers, i.forceHeaders),
    ]),
  );
  const pipeline = new ProxyPipeline({
    config,
    store: deps.store,
    callers: deps.callers,
    upstreams,
    plans,
    policy: new RetryPolicy(config.proxy),
    refresher: deps.refresher,
    reauth: deps.reauth,
    metrics,
    audit: infoLineWriter(logger),
    budgets: deps.budgets,
    limits: deps.limits,
  });
  const websockets = new WebSocketProxy({ pipeline, logger });
  app.server.on('upgrade', websockets.onUpgrade);
  app.addHook('onClose', () => {
    app.server.off('upgrade', websockets.onUpgrade);
    websockets.closeAll();
    return upstreams.close();
  });

  // Bodies are passed through as they came; the pipeline decides to buffer or stream.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  // The state, and the audit line and metrics once the connection is done with it.
  const begin = (request: ProxyRequest, reply: ProxyReply, target: ProxyTarget | undefined): void => {
    const state = pipeline.begin(request, target, 'http');
    (request as unknown as Record<typeof STATE, ProxyState>)[STATE] = state;
    reply.raw.once('close', () => {
      const done = reply.raw.writableFinished;
      if (!done) {
        state.callerGone.abort();
        state.exchange?.abort();
      }
      pipeline.finish(request, reply, state, done ? reply.statusCode : CALLER_CLOSED);
    });
  };

  const preHandler = async (request: ProxyRequest, reply: ProxyReply): Promise<void> => {
    await pipeline.prepare(request, reply, stateOf(request));
  };

  // Once sent, the answer stands (as with Fastify, which only logs such an error).
  const fail = (reply: ProxyReply, err: unknown): void => {
    if (!reply.sent) answerError(logger, reply, err);
  };

  // Forwarding over HTTP: an attempt, the upstream budget's turn first when it says to wait.
  // Most attempts are answered and done; what an outcome asks for (a wait and a retry, one
  // refresh-and-replay, the reauth answer) is `after`. No promise on the way of an answer.
  const forward = (request: ProxyRequest, reply: ProxyReply, state: ProxyState): void => {
    let turn: Promise<void> | undefined;
    try {
      turn = pipeline.admit(state); // undefined unless the upstream budget makes it wait
    } catch (err) {
      fail(reply, err); // 429 upstream_budget_exhausted: the upstream is not called
      return;
    }
    if (turn === undefined) send(request, reply, state);
    else
      turn.then(
        () => send(request, reply, state),
        (err: unknown) => fail(reply, err),
      );
  };
  const send = (request: ProxyRequest, reply: ProxyReply, state: ProxyState): void => {
    try {
      sendAttempt(request, reply, state, pipeline, (outcome) => {
        if (outcome.type !== 'sent')
          after(request, reply, state, outcome).catch((err: unknown) => fail(reply, err));
      });
    } catch (err) {
      fail(reply, err); // undici refused the request before it went (a value HTTP cannot carry)
    }
  };
  const after = async (request: ProxyRequest, reply: ProxyReply, state: ProxyState, outcome: Outcome) => {
    const ready = state.ready as ReadyState;
    const gone = state.callerGone;
    if (outcome.type === 'reauth') return pipeline.answerReauth(request, reply, state);
    if (outcome.type === 'failed') {
      const { failure } = outcome;
      const again =
        failure.retryable && !failure.callerGone
          ? pipeline.policy.forConnectionError({
              method: request.method,
              attempt: state.attempts,
              replayable: ready.body.kind !== 'streaming',
              callerRetrying: ready.callerRetrying,
            })
          : { retry: false as const };
      if (!again.retry) {
        if (failure.error.code === 'internal_error') logFault(logger, request, failure.error);
        else if (!failure.callerGone)
          logger.warn('upstream failed', upstreamFailureLog(failure, ready.upstream.origin));
        sendError(reply, failure.error);
        return;
      }
      metrics?.retry(state.integration, 'connection');
      await sleep(again.delayMs, undefined, { signal: gone.signal }).catch(() => {});
    } else if (outcome.type === 'retry') {
      metrics?.retry(state.integration, outcome.reason);
      await sleep(outcome.delayMs, undefined, { signal: gone.signal }).catch(() => {});
    } else if (outcome.type === 'refresh') {
      const next = await pipeline.refreshRejected(request, reply, state);
      if (next === 'answered') return;
      if (next instanceof KeygateError) {
        sendError(reply, next);
        return;
      }
    }
    if (gone.aborted) sendError(reply, new KeygateError('upstream_unreachable'));
    else forward(request, reply, state);
  };
  const handler = (request: ProxyRequest, reply: ProxyReply): void =>
    forward(request, reply, stateOf(request));

  // The lean path: the same steps without Fastify's router, hooks and reply (lean-path.ts),
  // and, when all they need is in memory, without a promise (pipeline.ts, #prepareCached).
  const serve = (request: RawRequest, reply: RawReply, target: ProxyTarget): void => {
    begin(request, reply, target);
    const state = stateOf(request);
    let ready: boolean | Promise<boolean>;
    try {
      ready = pipeline.prepare(request, reply, state);
    } catch (err) {
      fail(reply, err);
      return;
    }
    if (ready === true) forward(request, reply, state);
    else if (ready !== false) {
      ready.then(
        (go) => {
          if (go) forward(request, reply, state);
        },
        (err: unknown) => fail(reply, err),
      );
    }
  };
  deps.front?.claim(leanPath(serve));

  // What the lean path leaves to Fastify's router (a name that is not one, a
  // percent-escape in the path, Keygate closing) is answered here as before.
  app.decorateRequest(STATE, null);
  app.addHook('onRequest', (request, reply, done) => {
    begin(request, reply, splitProxyUrl(request.raw.url ?? ''));
    done();
  });
  app.all('/proxy/:tenant/:integration', { preHandler }, handler);
  app.all('/proxy/:tenant/:integration/*', { preHandler }, handler);
}
