import { createLocalJWKSet, errors, type JWK, type JWTVerifyGetKey } from 'jose';
import { IssuerFetchError, type IssuerFetcher } from './fetch-json.ts';

/** The issuer has no key set Keygate could ever fetch; `retryAfterMs` until it tries again. */
export class IssuerUnavailable extends Error {
  override readonly name = 'IssuerUnavailable';
  readonly retryAfterMs: number;
  constructor(reason: string, retryAfterMs: number) {
    super(reason);
    this.retryAfterMs = retryAfterMs;
  }
}

export interface IssuerKeysOptions {
  issuer: string;
  /** Configured; else found in the issuer's discovery document. */
  jwksUrl?: string | undefined;
  fetcher: IssuerFetcher;
  /** An unknown `kid` refetches at most this often. */
  cooldownMs: number;
  /** An older set is refetched in the background while it keeps serving. */
  maxAgeMs: number;
  /** Told of every fetch, for the log and metrics. */
  onFetch?: (outcome: { ok: true } | { ok: false; reason: string }) => void;
  now?: () => number;
}

// Without any set, a failed fetch is retried sooner than an unknown kid is: tokens wait on it.
const FIRST_FETCH_COOLDOWN_MS = 5000;
// Members only private and symmetric JWKs have: none belongs in an issuer's published set.
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'priv'];

/**
 * One issuer's signing keys, fetched ourselves rather than with jose's
 * createRemoteJWKSet, which stops serving once its set is older than cacheMaxAge and
 * the issuer is down, and counts its kid cooldown from the last success (so a failing
 * issuer is asked again on every unknown kid). Here: every fetch is bounded
 * (IssuerFetcher); the last good set keeps serving for as long as the issuer is
 * unreachable; fetches that requests trigger (first use, unknown `kid`) start at most
 * once per cooldown, counted from the last attempt, and concurrent ones share one
 * request; symmetric and private keys are dropped from what the issuer publishes.
 */
export class IssuerKeys {
  readonly #options: IssuerKeysOptions;
  readonly #now: () => number;
  #jwksUrl: string | undefined;
  #set: JWTVerifyGetKey | undefined;
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #attemptedAt = Number.NEGATIVE_INFINITY;
  #lastFailure = 'not fetched yet';
  #pending: Promise<void> | undefined;

  constructor(options: IssuerKeysOptions) {
    this.#options = options;
    this.#jwksUrl = options.jwksUrl;
    this.#now = options.now ?? Date.now;
  }

  /** The key resolver jose's jwtVerify calls with the token's protected header. */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    if (this.#set === undefined) {
      await this.#fetchIfDue(Math.min(FIRST_FETCH_COOLDOWN_MS, this.#options.cooldownMs));
      if (this.#set === undefined) {
        const wait = this.#attemptedAt + Math.min(FIRST_FETCH_COOLDOWN_MS, this.#options.cooldownMs);
        throw new IssuerUnavailable(this.#lastFailure, Math.max(1000, wait - this.#now()));
      }
    } else if (this.#now() - this.#fetchedAt >= this.#options.maxAgeMs) {
      void this.#fetchIfDue(this.#options.cooldownMs);
    }
    try {
      return await (this.#set as JWTVerifyGetKey)(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
      // A key the set does not hold: the issuer may have rotated. Once per cooldown.
      const before = this.#set;
      await this.#fetchIfDue(this.#options.cooldownMs);
      if (this.#set === before) throw err;
      return (this.#set as JWTVerifyGetKey)(header, token);
    }
  };

  /** Fetches now (at start, so the first token does not wait); failures are only reported. */
  prefetch(): Promise<void> {
    return this.#fetchIfDue(0);
  }

  #fetchIfDue(cooldownMs: number): Promise<void> {
    if (this.#pending) return this.#pending;
    if (this.#now() - this.#attemptedAt < cooldownMs) return Promise.resolve();
    this.#attemptedAt = this.#now();
    // Reported once no longer pending, so whoever hears of it can start the next one.
    this.#pending = this.#fetch().then((outcome) => {
      this.#pending = undefined;
      this.#options.onFetch?.(outcome);
    });
    return this.#pending;
  }

  /** Never throws: a failure keeps the set there is and says why. */
  async #fetch(): Promise<{ ok: true } | { ok: false; reason: string }> {
    try {
      this.#jwksUrl ??= await this.#discover();
      const body = await this.#options.fetcher.json(this.#jwksUrl);
      const keys = (body as { keys?: unknown } | null)?.keys;
      if (!Array.isArray(keys)) throw new IssuerFetchError('the key set has no "keys" array');
      const published = keys.filter(
        (k): k is JWK =>
          typeof k === 'object' && k !== null && k.kty !== 'oct' && !PRIVATE_MEMBERS.some((m) => m in k),
      );
      let set: JWTVerifyGetKey;
      try {
        set = createLocalJWKSet({ keys: published });
      } catch {
        throw new IssuerFetchError('the key set is malformed');
      }
      this.#set = set;
      this.#fetchedAt = this.#now();
      return { ok: true };
    } catch (err) {
      this.#lastFailure = err instanceof IssuerFetchError ? err.message : 'failed';
      return { ok: false, reason: this.#lastFailure };
    }
  }

  /**
   * The `jwks_uri` of the issuer's metadata: OpenID Connect discovery
   * (`{issuer}/.well-known/openid-configuration`), then RFC 8414
   * (`{origin}/.well-known/oauth-authorization-server{path}`). The document's `issuer`
   * must be the configured one exactly (OIDC Discovery §4.3, RFC 8414 §3.3).
   */
  async #discover(): Promise<string> {
    const { issuer, fetcher } = this.#options;
    const url = new URL(issuer);
    const path = url.pathname.replace(/\/+$/, '');
    const candidates = [
      `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`,
      `${url.origin}/.well-known/oauth-authorization-server${path}`,
    ];
    const failures: string[] = [];
    for (const candidate of candidates) {
      try {
        const doc = (await fetcher.json(candidate)) as { issuer?: unknown; jwks_uri?: unknown } | null;
        if (doc?.issuer !== issuer) throw new IssuerFetchError('its metadata names another issuer');
        if (typeof doc.jwks_uri !== 'string' || !/^https?:\/\//.test(doc.jwks_uri)) {
          throw new IssuerFetchError('its metadata has no jwks_uri');
        }
        return doc.jwks_uri;
      } catch (err) {
        failures.push(err instanceof IssuerFetchError ? err.message : 'failed');
      }
    }
    throw new IssuerFetchError(`discovery failed: ${failures.join('; ')}`);
  }
}
