import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { Counter, type Registry } from 'prom-client';
import type { Config } from '../config/schema.ts';
import { isLoopback } from '../config/tls.ts';
import { KeygateError, isKeygateError } from '../errors.ts';
import { AuthThrottle } from '../keys/auth-throttle.ts';
import { allows } from '../keys/authenticate.ts';
import type { CallerKeys, KeyInfo } from '../keys/key-store.ts';
import type { Logger } from '../observability/logger.ts';
import { refusalFor } from './authorise.ts';
import type { Caller, CallerAuthenticator } from './caller.ts';
import { IssuerFetcher } from './fetch-json.ts';
import { presentedCredential } from './presented.ts';
import { bearerChallenge, ProtectedResources, scopeFor } from './resources.ts';
import { TokenVerifier, type IssuerPolicy } from './tokens.ts';

export interface CallersDeps {
  config: Readonly<Pick<Config, 'callers' | 'authThrottle' | 'reauth'>>;
  keys: Pick<CallerKeys, 'verify' | 'verifiedCached'>;
  logger: Logger;
  /** Where the auth-failure and key-fetch counters go; none without it. */
  metrics?: Registry | undefined;
  now?: () => number;
}

/**
 * The proxy's first step: who calls. A Keygate key (`kg_...`) is checked as ever; an
 * access token (a JWT) is verified against `callers.issuers` and authorised for the
 * path. Every refusal is a KeygateError with, where issuers are configured, the RFC 6750
 * challenge that points an OAuth client (an MCP client) at the protected-resource
 * metadata. Failed authentications of either kind count against the client address's
 * auth throttle; past it, nothing is even looked at.
 */
export class Callers implements CallerAuthenticator {
  readonly resources: ProtectedResources;
  readonly #keys: Pick<CallerKeys, 'verify' | 'verifiedCached'>;
  readonly #throttle: AuthThrottle;
  readonly #tokens: TokenVerifier | undefined;
  readonly #fetchers: IssuerFetcher[] = [];
  readonly #now: () => number;
  readonly #logger: Logger;
  readonly #publicUrlConfigured: boolean;
  // Records are long-lived (the key cache's), so their Caller is made once per record.
  readonly #keyCallers = new WeakMap<KeyInfo, Caller>();

  constructor({ config, keys, logger, metrics, now = Date.now }: CallersDeps) {
    const { callers } = config;
    this.#keys = keys;
    this.#now = now;
    this.#logger = logger;
    this.#publicUrlConfigured = (callers.publicUrl ?? config.reauth.publicUrl) !== undefined;
    this.#throttle = new AuthThrottle(config.authThrottle, metrics, now);
    this.resources = new ProtectedResources(callers.publicUrl ?? config.reauth.publicUrl);
    if (callers.issuers.length === 0) return;
    const fetches =
      metrics &&
      new Counter({
        name: 'keygate_issuer_key_fetches_total',
        help: "Fetches of an access-token issuer's key set (discovery included), by issuer and outcome.",
        labelNames: ['issuer', 'outcome'] as const,
        registers: [metrics],
      });
    const { timeoutMs, maxBytes } = callers.jwks;
    const shared = new IssuerFetcher({ timeoutMs, maxBytes });
    this.#fetchers.push(shared);
    this.#tokens = new TokenVerifier({
      callers,
      fetcherFor: ({ caFile }) => {
        if (caFile === undefined) return shared;
        const own = new IssuerFetcher({ timeoutMs, maxBytes, ca: readFileSync(caFile, 'utf8') });
        this.#fetchers.push(own);
        return own;
      },
      now,
      onFetch: (issuer, outcome) => {
        fetches?.inc({ issuer, outcome: outcome.ok ? 'ok' : 'failed' });
        if (!outcome.ok)
          logger.warn('issuer keys unavailable', { event: 'issuer-keys', issuer, reason: outcome.reason });
      },
    });
  }

  /** True when access tokens are accepted (some issuer is configured). */
  get acceptsTokens(): boolean {
    return this.#tokens !== undefined;
  }

  /** The configured issuers, compiled. */
  get issuers(): IssuerPolicy[] {
    return this.#tokens?.issuers ?? [];
  }

  /** Keygate listens at `url` (the public URL when none is configured); issuers' keys are fetched now. */
  listening(url: string): void {
    this.resources.listening(url);
    if (this.#tokens === undefined) return;
    if (!this.#publicUrlConfigured && !isLoopback(new URL(url).hostname)) {
      // Behind a load balancer the listen address is not what clients reach, nor their tokens' audience.
      this.#logger.warn(
        'callers.publicUrl is not set: access tokens are checked against the listen address',
        {
          event: 'public-url-unset',
          url,
        },
      );
    }
    void this.#tokens.prefetch();
  }

  async close(): Promise<void> {
    await Promise.all(this.#fetchers.map((f) => f.close()));
  }

  /**
   * The caller without a promise when everything is cached and allowed (a key seen before
   * with its record fresh, or a token verified before and not expired); undefined when
   * authenticate() must be asked, which also makes every refusal.
   */
  authenticateCached(
    headers: IncomingHttpHeaders,
    address: string,
    tenant: string,
    integration: string,
  ): Caller | undefined {
    if (this.#throttle.throttles(address)) return undefined;
    const presented = presentedCredential(headers);
    if (presented.kind === 'key') {
      const key = this.#keys.verifiedCached(presented.value);
      return key !== undefined && allows(key, tenant, integration) ? this.#keyCaller(key) : undefined;
    }
    if (presented.kind !== 'token' || this.#tokens === undefined) return undefined;
    const token = this.#tokens.verifiedCached(presented.value);
    if (token === undefined) return undefined;
    return refusalFor(token, tenant, integration, this.resources, this.#now()) === undefined
      ? token.caller
      : undefined;
  }

  async authenticate(
    headers: IncomingHttpHeaders,
    address: string,
    tenant: string,
    integration: string,
  ): Promise<Caller> {
    this.#throttle.check(address);
    const presented = presentedCredential(headers);
    if (presented.kind === 'key') {
      const key = await this.#keys.verify(presented.value);
      if (!key) {
        const message = 'A valid Keygate key is required.';
        throw this.#failed(address, new KeygateError('unauthorized', { message }), tenant, integration);
      }
      if (!allows(key, tenant, integration)) throw new KeygateError('forbidden');
      return this.#keyCaller(key);
    }
    const tokens = this.#tokens;
    if (tokens === undefined) {
      const message = 'A valid Keygate key is required.';
      throw this.#failed(address, new KeygateError('unauthorized', { message }), tenant, integration);
    }
    if (presented.kind === 'none') {
      const message = 'A Keygate key or an access token is required.';
      const error = new KeygateError('unauthorized', { message });
      throw this.#failed(address, error, tenant, integration, false);
    }
    if (presented.kind === 'unrecognised') {
      const message = 'The bearer token is neither a Keygate key nor a JWT access token.';
      throw this.#failed(address, new KeygateError('invalid_token', { message }), tenant, integration);
    }
    let refusal: KeygateError | undefined;
    try {
      const token = await tokens.verify(presented.value);
      refusal = refusalFor(token, tenant, integration, this.resources, this.#now());
      if (refusal === undefined) return token.caller;
    } catch (err) {
      if (!isKeygateError(err, 'invalid_token')) throw err;
      refusal = err;
    }
    if (refusal.code === 'invalid_token') throw this.#failed(address, refusal, tenant, integration);
    if (refusal.code !== 'insufficient_scope') throw refusal;
    const challenge = bearerChallenge({
      error: 'insufficient_scope',
      scope: scopeFor(integration),
      resource_metadata: this.resources.metadataUrlOf(tenant, integration),
      error_description: refusal.message,
    });
    throw withChallenge(refusal, challenge);
  }

  /** Counts the failure against the address, and adds the challenge where tokens are accepted. */
  #failed(
    address: string,
    error: KeygateError,
    tenant: string,
    integration: string,
    presented = true,
  ): KeygateError {
    this.#throttle.failed(address);
    // Keys only: a 401 still names its scheme (RFC 9110 §11.6.1), with nothing to discover.
    if (this.#tokens === undefined) return withChallenge(error, KEYS_ONLY_CHALLENGE);
    const metadata = this.resources.metadataUrlOf(tenant, integration);
    // RFC 6750 §3.1: a request with no credential at all gets no error code.
    const challenge = !presented
      ? bearerChallenge({ resource_metadata: metadata, scope: scopeFor(integration) })
      : bearerChallenge({
          error: 'invalid_token',
          error_description: error.message,
          resource_metadata: metadata,
        });
    return withChallenge(error, challenge);
  }

  #keyCaller(key: KeyInfo): Caller {
    let caller = this.#keyCallers.get(key);
    if (caller === undefined) {
      const { accounts, limits } = key;
      caller = {
        kind: 'key',
        id: key.id,
        ...(accounts === undefined ? {} : { accounts }),
        ...(limits === undefined ? {} : { limits }),
        // A key for one account uses it when the request names none.
        ...(accounts?.length === 1 ? { account: accounts[0] } : {}),
      };
      this.#keyCallers.set(key, caller);
    }
    return caller;
  }
}

const KEYS_ONLY_CHALLENGE = 'Bearer realm="keygate"';

const withChallenge = (error: KeygateError, challenge: string) =>
  new KeygateError(error.code, {
    message: error.message,
    headers: { 'www-authenticate': challenge },
    ...(error.retryAfter === undefined ? {} : { retryAfter: error.retryAfter }),
    cause: error.cause ?? error,
  });
