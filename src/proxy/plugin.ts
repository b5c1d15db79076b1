import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Budgets } from '../budgets/budgets.ts';
import type { OwnLimits } from '../budgets/own-limits.ts';
import type { Config } from '../config/schema.ts';
import { NAME_PATTERN } from '../config/schema.ts';
import type { Credential } from '../credentials/types.ts';
import { KeygateError, isKeygateError } from '../errors.ts';
import { answerError, logFault, sendError } from '../http/error-handler.ts';
import type { RawReply, RawRequest, ProxyReply, ProxyRequest } from '../http/exchange.ts';
import type { FrontDoor } from '../http/front-door.ts';
import { AuthThrottle, authenticateThrottled } from '../keys/auth-throttle.ts';
import type { CallerKeys } from '../keys/key-store.ts';
import type { Logger } from '../observability/logger.ts';
import { infoWriter } from '../observability/hot-line.ts';
import { USER_HEADER, subjectOf } from '../reauth/identity.ts';
import type { ReauthResponder } from '../reauth/responder.ts';
import { accountOf } from './account.ts';
import { sendAttempt, type AttemptDeps } from './attempt.ts';
import { writeAuditLine } from './audit.ts';
import { takeBody } from './body.ts';
import { planHeaders, type UpstreamHeaderPlan } from './headers.ts';
import { compileInjector, tokenOf } from './inject.ts';
import { assertProxyMethod } from './methods.ts';
import { ProxyMetrics } from './metrics.ts';
import { leanPath } from './lean-path.ts';
import { splitProxyUrl, withoutQueryParam, type ProxyTarget } from './path.ts';
import type { CredentialRefresher } from './refresher.ts';
import { RetryPolicy } from './retry-policy.ts';
import { upstreamFailureLog } from './upstream-errors.ts';
import { CallerGone, type ProxyState, type ReadyState } from './state.ts';
import { Upstreams } from './upstreams.ts';
import { WebSocketProxy } from './websocket.ts';

export interface ProxyDeps {
  config: Readonly<Config>;
  logger: Logger;
  store: { get(tenant: string, integration: string, account?: string): Promise<Credential> };
  keys: CallerKeys;
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

const NAME = new RegExp(NAME_PATTERN);
// Per-request state lives on the request (a Fastify decoration): a WeakMap keyed by
// short-lived requests costs the garbage collector ephemeron work on every scavenge.
const STATE = 'keygateProxy';
const stateOf = (request: object) => (request as Record<typeof STATE, ProxyState>)[STATE];

/**
 * `ANY /proxy/{tenant}/{integration}/{path}`. Async work (key, credential, body)
 * happens in preHandler; the upstream request is then built synchronously with the
 * credential injected, and the answer streamed back. Encapsulated: its body parser
 * and hooks stay inside this plugin.
 */
export async function proxyRoutes(app: FastifyInstance, deps: ProxyDeps): Promise<void> {
  const { config, logger, store, keys, refresher, reauth, budgets, limits } = deps;
  const metrics = deps.metrics && new ProxyMetrics(deps.metrics, Object.keys(config.integrations));
  const upstreams = new Upstreams(config);
  const audit = infoWriter(logger);
  const throttle = new AuthThrottle(config.authThrottle, deps.metrics);
  const plans = new Map<string, UpstreamHeaderPlan>(
    Object.entries(config.integrations).map(([name, i]) => [
      name,
      planHeaders(compileInjector(i), i.headers, i.forceHeaders),
    ]),
  );
  const attemptDeps: AttemptDeps = {
    policy: new RetryPolicy(config.proxy),
    canRefresh: refresher !== undefined,
    reauthAfter401: (integration) => reauth?.covers(integration) ?? false,
    budgets,
  };
  const websockets = new WebSocketProxy({ config, logger, keys, throttle, store, upstreams, plans });
  app.server.on('upgrade', websockets.onUpgrade);
  app.addHook('onClose', () => {
    app.server.off('upgrade', websockets.onUpgrade);
    websockets.closeAll();
    return upstreams.close();
  });

  // Bodies are passed through as they came; takeBody decides to buffer or stream.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  // Per-request state, and the audit line and metrics once the connection is done with it.
  const begin = (request: ProxyRequest, reply: ProxyReply, target: ProxyTarget | undefined): void => {
    const state: ProxyState = {
      target,
      tenant: target?.tenant ?? '',
      integration: target?.integration ?? '',
      account: 'default',
      method: request.method,
      path: target?.rest || '/',
      startedAt: performance.now(),
      attempts: 0,
      upstreamMs: 0,
      callerGone: new CallerGone(),
    };
    (request as unknown as Record<typeof STATE, ProxyState>)[STATE] = state;
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) {
        state.callerGone.abort();
        state.exchange?.abort();
      }
      const status = writeAuditLine(audit, request, reply, state);
      metrics?.request(
        state.integration,
        status,
        reply.hasHeader('x-keygate-error'),
        (performance.now() - state.startedAt) / 1000,
      );
    });
  };

  const preHandler = async (request: ProxyRequest, reply: ProxyReply): Promise<unknown> => {
    const state = stateOf(request);
    assertProxyMethod(request.method);
    const { target } = state;
    if (!target || !NAME.test(target.tenant) || !NAME.test(target.integration)) {
      throw new KeygateError('invalid_name');
    }
    state.account = accountOf(request.headers);
    const key = await authenticateThrottled(
      throttle,
      request.ip,
      keys,
      request.headers,
      target.tenant,
      target.integration,
    );
    state.caller = key.id;
    limits?.check(target.tenant, key);
    const upstream = upstreams.get(target.integration);
    const plan = plans.get(target.integration);
    if (!upstream || !plan) throw new KeygateError('unknown_integration');
    const path = upstream.pathFor(target.rest);
    const reauthing = reauth?.covers(target.integration) ? reauth : undefined;
    const found = await store.get(target.tenant, target.integration, state.account).catch((err: unknown) => {
      if (reauthing && isKeygateError(err, 'credential_not_found')) return undefined;
      throw err;
    });
    if (reauthing && (found === undefined || reauthing.isDead(found))) {
      const body = await takeBody(request.body, request.headers['content-length'], config.proxy);
      return reauthing.answer(request, reply, reauthContext(request, state), body);
    }
    let credential = found as Credential;
    if (refresher && isExpired(credential)) credential = await refreshExpired(refresher, credential);
    let body = await takeBody(request.body, request.headers['content-length'], config.proxy);
    if (reauthing) body = reauthing.resume(request, reauthContext(request, state), body);
    const query =
      plan.injector.query === undefined ? target.query : withoutQueryParam(target.query, plan.injector.query);
    state.ready = {
      upstream,
      plan,
      upstreamPath: path,
      query,
      credential,
      token: tokenOf(credential),
      body,
      refreshed: false,
      callerRetrying: attemptDeps.policy.callerIsRetrying(request.headers),
    };
  };

  const handler = async <R extends ProxyReply>(request: ProxyRequest, reply: R): Promise<R> => {
    const state = stateOf(request);
    const ready = state.ready as ReadyState;
    const gone = state.callerGone;
    for (;;) {
      const turn = budgets?.admit(state); // undefined unless the upstream budget makes it wait
      if (turn) await turn;
      const outcome = await sendAttempt(request, reply, state, gone, attemptDeps);
      if (outcome.type === 'sent') return reply;
      if (outcome.type === 'reauth') {
        await (reauth as ReauthResponder).answer(request, reply, reauthContext(request, state), ready.body);
        return reply;
      }
      if (outcome.type === 'failed') {
        const { failure } = outcome;
        const again =
          failure.retryable && !failure.callerGone
            ? attemptDeps.policy.forConnectionError({
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
          return sendError(reply, failure.error);
        }
        metrics?.retry(state.integration, 'connection');
        await sleep(again.delayMs, undefined, { signal: gone.signal }).catch(() => {});
      } else if (outcome.type === 'retry') {
        metrics?.retry(state.integration, outcome.reason);
        await sleep(outcome.delayMs, undefined, { signal: gone.signal }).catch(() => {});
      } else {
        const fresh = await refreshOnce(refresher as CredentialRefresher, state, ready);
        if (isKeygateError(fresh, 'credential_refresh_failed') && reauth?.covers(state.integration)) {
          await reauth.answer(request, reply, reauthContext(request, state), ready.body);
          return reply;
        }
        if (fresh instanceof KeygateError) return sendError(reply, fresh);
        ready.credential = fresh;
        ready.token = tokenOf(fresh);
        ready.refreshed = true;
        metrics?.retry(state.integration, 'refresh');
      }
      if (gone.aborted) return sendError(reply, new KeygateError('upstream_unreachable'));
    }
  };

  // The lean path: the same steps without Fastify's router, hooks and reply (lean-path.ts).
  const serve = async (request: RawRequest, reply: RawReply, target: ProxyTarget): Promise<void> => {
    begin(request, reply, target);
    try {
      await preHandler(request, reply);
      if (!reply.sent) await handler(request, reply);
    } catch (err) {
      // Once sent, the answer stands (as with Fastify, which only logs such an error).
      if (!reply.sent) answerError(logger, reply, err);
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

function reauthContext(request: ProxyRequest, state: ProxyState) {
  return {
    tenant: state.tenant,
    integration: state.integration,
    account: state.account,
    keyId: state.caller ?? '',
    subject: subjectOf(request.headers[USER_HEADER]),
  };
}

function isExpired(credential: Credential): boolean {
  return (
    credential.authType !== 'api_key' &&
    credential.expiresAt !== null &&
    Date.parse(credential.expiresAt) <= Date.now()
  );
}

/**
 * An access token already past its expiry (the scheduler fell behind, or another
 * replica holds the refresh) is refreshed before the request rather than after a 401,
 * so a streamed body, which cannot be replayed, still goes through. On failure the
 * request goes out with what there is, and the 401 path decides.
 */
async function refreshExpired(refresher: CredentialRefresher, credential: Credential): Promise<Credential> {
  const { tenant, integration, account, secret } = credential;
  return refresher
    .refresh(
      tenant,
      integration,
      { reason: 'unauthorized', staleAccessToken: secret.accessToken ?? '' },
      account,
    )
    .catch(() => credential);
}

async function refreshOnce(
  refresher: CredentialRefresher,
  state: ProxyState,
  ready: ReadyState,
): Promise<Credential | KeygateError> {
  try {
    return await refresher.refresh(
      state.tenant,
      state.integration,
      { reason: 'unauthorized', staleAccessToken: ready.token },
      state.account,
    );
  } catch (err) {
    // The refresher's own codes say what happened (revoked grant, token endpoint down, Vault down).
    return isKeygateError(err) ? err : new KeygateError('credential_refresh_failed', { cause: err });
  }
}
