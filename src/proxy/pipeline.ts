import type { IncomingHttpHeaders } from 'node:http';
import type { Budgets } from '../budgets/budgets.ts';
import type { OwnLimits } from '../budgets/own-limits.ts';
import type { Config } from '../config/schema.ts';
import type { CredentialStore } from '../credentials/store.ts';
import type { Credential } from '../credentials/types.ts';
import { KeygateError, isKeygateError } from '../errors.ts';
import type { ProxyReply, ProxyRequest } from '../http/exchange.ts';
import { ACCOUNT_HEADER, accountFor } from '../identity/account.ts';
import type { CallerAuthenticator } from '../identity/caller.ts';
import type { LineWriter } from '../observability/hot-line.ts';
import { endServerSpan, startServerSpan, tracing, withSpan } from '../observability/tracing.ts';
import { USER_HEADER, headerSubject } from '../reauth/identity.ts';
import type { ReauthContext, ReauthResponder } from '../reauth/responder.ts';
import { assertMethod, isRefusedMethod } from './methods.ts';
import { writeAuditLine } from './audit.ts';
import { takeBody, type ProxyBody } from './body.ts';
import type { UpstreamHeaderPlan } from './headers.ts';
import { tokenOf } from './inject.ts';
import type { ProxyMetrics } from './metrics.ts';
import { namesValid, withoutQueryParam, type ProxyTarget } from './path.ts';
import type { CredentialRefresher } from './refresher.ts';
import type { RetryPolicy } from './retry-policy.ts';
import { CallerGone, type ProxyState, type ReadyState, type Transport } from './state.ts';
import type { Upstream, Upstreams } from './upstreams.ts';

export interface PipelineDeps {
  config: Readonly<Config>;
  store: Pick<CredentialStore, 'get' | 'cached'>;
  /** Who calls: Keygate keys, and (src/identity) verified access tokens. */
  callers: CallerAuthenticator;
  upstreams: Upstreams;
  plans: ReadonlyMap<string, UpstreamHeaderPlan>;
  policy: RetryPolicy;
  /** The scheduler's refresh; without it an upstream 401 is passed through. */
  refresher?: CredentialRefresher | undefined;
  /** Answers a caller whose credential is missing or dead with a way to reconnect; without it, the plain error. */
  reauth?: ReauthResponder | undefined;
  metrics?: ProxyMetrics | undefined;
  audit: LineWriter;
  /** Upstream budgets learned from the answers (src/budgets); without them nothing is held. */
  budgets?: Budgets | undefined;
  /** Keygate's own per-key and per-tenant limits; without them none apply. */
  limits?: OwnLimits | undefined;
}

const ROUTE = '/proxy/{tenant}/{integration}/{path}';

/**
 * The proxy's steps, in one sequence that every transport runs: the HTTP route (lean
 * path or Fastify's) and the WebSocket upgrade differ only in how they forward once
 * `prepare` has made the request ready (plugin.ts, websocket.ts).
 *
 *   begin → authenticate (identity) → resolve integration and path → account
 *   (identity: the caller's pinned or allowed accounts) → own limits → credential (missing or dead: the
 *   reauth answer) → expiry refresh → body → ready to inject
 *   … forward (per transport): before each attempt `admit` (the upstream budget), with each
 *   answer `learn`; an upstream 401: `refreshRejected`, then the reauth answer
 *   → finish: audit line and metrics, once the caller's connection is done with it.
 */
export class ProxyPipeline {
  readonly #deps: PipelineDeps;
  readonly #bodyLimits: Config['proxy'];

  constructor(deps: PipelineDeps) {
    this.#deps = deps;
    this.#bodyLimits = deps.config.proxy;
  }

  get policy(): RetryPolicy {
    return this.#deps.policy;
  }

  /** The per-request state, before anything is checked. */
  begin(request: ProxyRequest, target: ProxyTarget | undefined, transport: Transport): ProxyState {
    const span = tracing.enabled
      ? startServerSpan(
          {
            method: request.method,
            path: request.raw.url ?? '',
            route: ROUTE,
            headers: request.headers,
            scheme: request.protocol === 'https' ? 'https' : 'http',
            clientAddress: request.ip,
          },
          { tenant: target?.tenant, integration: target?.integration },
        )
      : undefined;
    return {
      transport,
      target,
      tenant: target?.tenant ?? '',
      integration: target?.integration ?? '',
      account: 'default',
      method: request.method,
      path: target?.rest || '/',
      startedAt: performance.now(),
      caller: undefined,
      budgetSeq: undefined,
      attempts: 0,
      upstreamMs: 0,
      callerGone: new CallerGone(),
      exchange: undefined,
      ready: undefined,
      span,
    };
  }

  /**
   * Every step before forwarding. True: `state.ready` holds what the transport injects
   * and sends. False: the caller has been answered (a way to reconnect). Throws a
   * KeygateError for a refusal; nothing has gone upstream then.
   */
  prepare(request: ProxyRequest, reply: ProxyReply, state: ProxyState): boolean | Promise<boolean> {
    // With tracing on, the Vault reads and a refresh waited on become children of the request's span.
    const { span } = state;
    if (span) return withSpan(span, () => this.#prepare(request, reply, state));
    return this.#prepareCached(request, state) || this.#prepare(request, reply, state);
  }

  /**
   * The same steps when all they need is in memory (the caller's key or token verified
   * before, the credential cached fresh and live, no body): true with `state.ready` set, in
   * the same turn, with no promise; false to take #prepare, which also makes every refusal
   * and every answer (but the account's refusals, and rate_limited once the request is
   * counted, thrown here as #prepare would throw them). Most proxied requests of a busy Keygate end here
   * (docs/proxy.md#benchmark).
   */
  #prepareCached(request: ProxyRequest, state: ProxyState): boolean {
    const { callers, upstreams, plans, store, refresher } = this.#deps;
    const { target } = state;
    if (
      request.body !== undefined ||
      target === undefined ||
      callers.authenticateCached === undefined ||
      isRefusedMethod(request.method) ||
      state.transport !== 'http' ||
      !namesValid(target)
    ) {
      return false;
    }
    const caller = callers.authenticateCached(request.headers, request.ip, target.tenant, target.integration);
    if (caller === undefined) return false;
    const upstream = upstreams.get(target.integration);
    const plan = plans.get(target.integration);
    if (!upstream || !plan) return false;
    state.caller = caller;
    // The same decision as #prepare's (it throws the same refusal a step later there).
    state.account = accountFor(caller, request.headers[ACCOUNT_HEADER]);
    const credential = store.cached(state);
    if (
      credential === undefined ||
      (refresher && isExpired(credential)) ||
      this.#reauthFor(state)?.isDead(credential)
    ) {
      return false;
    }
    // Committed: own limits count the request here (or throw rate_limited) and nowhere else.
    this.#deps.limits?.check(target.tenant, caller);
    state.ready = this.#ready(
      request,
      state,
      upstream,
      plan,
      upstream.pathFor(target.rest),
      credential,
      NO_BODY,
    );
    return true;
  }

  async #prepare(request: ProxyRequest, reply: ProxyReply, state: ProxyState): Promise<boolean> {
    const { callers, upstreams, plans, store, refresher } = this.#deps;
    assertMethod(request, state.transport);
    const { target } = state;
    if (!target || !namesValid(target)) {
      throw new KeygateError('invalid_name');
    }
    const caller = await callers.authenticate(request.headers, request.ip, target.tenant, target.integration);
    state.caller = caller;
    const upstream = upstreams.get(target.integration);
    const plan = plans.get(target.integration);
    if (!upstream || !plan) throw new KeygateError('unknown_integration');
    const upstreamPath = upstream.pathFor(target.rest);
    state.account = accountFor(caller, request.headers[ACCOUNT_HEADER]);
    // Counted once the request is one Keygate would serve (as #prepareCached counts it).
    this.#deps.limits?.check(target.tenant, caller);
    const reauth = this.#reauthFor(state);
    // The state is the request's CredentialRef, its account now decided (state.ts).
    const found = await store.get(state).catch((err: unknown) => {
      if (reauth && isKeygateError(err, 'credential_not_found')) return undefined;
      throw err;
    });
    if (reauth && (found === undefined || reauth.isDead(found))) {
      await reauth.answer(request, reply, reauthContext(request, state), await this.#body(request));
      return false;
    }
    let credential = found as Credential;
    if (refresher && isExpired(credential)) credential = await refreshExpired(refresher, credential);
    let body = await this.#body(request);
    if (reauth) body = reauth.resume(request, reauthContext(request, state), body);
    state.ready = this.#ready(request, state, upstream, plan, upstreamPath, credential, body);
    return true;
  }

  #ready(
    request: ProxyRequest,
    state: ProxyState,
    upstream: Upstream,
    plan: UpstreamHeaderPlan,
    upstreamPath: string,
    credential: Credential,
    body: ProxyBody,
  ): ReadyState {
    const target = state.target as ProxyTarget;
    const query =
      plan.injector.query === undefined ? target.query : withoutQueryParam(target.query, plan.injector.query);
    return {
      upstream,
      plan,
      upstreamPath,
      query,
      credential,
      token: tokenOf(credential),
      body,
      refreshed: false,
      callerRetrying: this.#deps.policy.callerIsRetrying(request.headers),
    };
  }

  /**
   * Before each upstream attempt: undefined when it may go now (nothing allocated), a
   * promise when the credential's upstream budget makes it wait its turn. Throws (or the
   * promise rejects with) 429 upstream_budget_exhausted: the upstream is not called.
   */
  admit(state: ProxyState): Promise<void> | undefined {
    return this.#deps.budgets?.admit(state);
  }

  /** Each upstream answer's head: what it says about the credential's rate limit. */
  learn(state: ProxyState, status: number, headers: IncomingHttpHeaders): void {
    this.#deps.budgets?.learn(state, status, headers);
  }

  /** What a 401 from the upstream means: refresh and replay once, then (where covered) the reauth answer. */
  onRejected(state: ProxyState, replayable: boolean): 'refresh' | 'reauth' | undefined {
    const ready = state.ready as ReadyState;
    if (!ready.refreshed) {
      const canRefresh =
        this.#deps.refresher !== undefined && replayable && ready.credential.authType !== 'api_key';
      return canRefresh ? 'refresh' : undefined;
    }
    return this.#reauthFor(state) ? 'reauth' : undefined;
  }

  /**
   * The upstream refused the injected credential: one refresh, shared by every caller of
   * the credential (and every replica), then `state.ready` holds the fresh one. Answers
   * the caller itself where the tenant must reconnect; otherwise returns the error to send.
   */
  async refreshRejected(
    request: ProxyRequest,
    reply: ProxyReply,
    state: ProxyState,
  ): Promise<'replay' | 'answered' | KeygateError> {
    const ready = state.ready as ReadyState;
    const refresher = this.#deps.refresher as CredentialRefresher;
    const { span } = state;
    const fresh = await (span
      ? withSpan(span, () => refreshOnce(refresher, state, ready))
      : refreshOnce(refresher, state, ready));
    if (isKeygateError(fresh, 'credential_refresh_failed') && this.#reauthFor(state)) {
      await this.answerReauth(request, reply, state);
      return 'answered';
    }
    if (fresh instanceof KeygateError) return fresh;
    ready.credential = fresh;
    ready.token = tokenOf(fresh);
    ready.refreshed = true;
    this.#deps.metrics?.retry(state.integration, 'refresh');
    return 'replay';
  }

  /** A 401 that outlived refresh-and-replay: the caller gets a way to reconnect. */
  answerReauth(request: ProxyRequest, reply: ProxyReply, state: ProxyState): Promise<void> {
    const body = state.ready?.body ?? NO_BODY;
    return (this.#deps.reauth as ReauthResponder).answer(request, reply, reauthContext(request, state), body);
  }

  /** The audit line and metrics, once the caller's connection is done with the request. */
  finish(request: ProxyRequest, reply: ProxyReply, state: ProxyState, status: number): void {
    writeAuditLine(this.#deps.audit, request, reply, state, status);
    if (state.span) {
      state.span.setAttribute('keygate.account', state.account);
      endServerSpan(state.span, status);
    }
    this.#deps.metrics?.request(
      state.integration,
      status,
      reply.hasHeader('x-keygate-error'),
      (performance.now() - state.startedAt) / 1000,
    );
  }

  #reauthFor(state: ProxyState): ReauthResponder | undefined {
    const { reauth } = this.#deps;
    return reauth?.covers(state.integration) ? reauth : undefined;
  }

  #body(request: ProxyRequest): Promise<ProxyBody> {
    return takeBody(request.body, request.headers['content-length'], this.#bodyLimits);
  }
}

const NO_BODY: ProxyBody = { kind: 'none' };

function reauthContext(request: ProxyRequest, state: ProxyState): ReauthContext {
  const { caller } = state;
  return {
    tenant: state.tenant,
    integration: state.integration,
    account: state.account,
    keyId: caller?.id ?? '',
    subject: caller?.subject ?? headerSubject(request.headers[USER_HEADER]),
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
 * so a streamed body, which cannot be replayed, still goes through, and a WebSocket
 * handshake reaches the origin with a live token. On failure the request goes out with
 * what there is, and the 401 path decides.
 */
async function refreshExpired(refresher: CredentialRefresher, credential: Credential): Promise<Credential> {
  return refresher
    .refresh(credential, { reason: 'unauthorized', staleAccessToken: credential.secret.accessToken ?? '' })
    .catch(() => credential);
}

async function refreshOnce(
  refresher: CredentialRefresher,
  state: ProxyState,
  ready: ReadyState,
): Promise<Credential | KeygateError> {
  try {
    return await refresher.refresh(state, { reason: 'unauthorized', staleAccessToken: ready.token });
  } catch (err) {
    // The refresher's own codes say what happened (revoked grant, token endpoint down, Vault down).
    return isKeygateError(err) ? err : new KeygateError('credential_refresh_failed', { cause: err });
  }
}
