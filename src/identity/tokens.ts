import { hash } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { LRUCache } from 'lru-cache';
import { TOKEN_ALGORITHMS, type CallersConfig, type IssuerConfig } from '../config/callers.ts';
import { isValidName } from '../credentials/names.ts';
import { KeygateError } from '../errors.ts';
import { accountName } from './account.ts';
import type { Caller } from './caller.ts';
import { audiencesOf, compileClaimSource, normaliseTyp, scopesOf } from './claims.ts';
import type { IssuerFetcher } from './fetch-json.ts';
import { IssuerKeys, IssuerUnavailable } from './issuer-keys.ts';
import { subjectHash, tokenCallerId } from './subject.ts';

/** One configured issuer, compiled once at start. */
export interface IssuerPolicy {
  readonly config: IssuerConfig;
  readonly keys: IssuerKeys;
  /** Configured audiences; undefined: Keygate's public URL. */
  readonly audience: ReadonlySet<string> | undefined;
}

interface CompiledIssuer extends IssuerPolicy {
  readonly tenant: (payload: Record<string, unknown>) => string | undefined;
  readonly account: ((payload: Record<string, unknown>) => string | undefined) | undefined;
  readonly algorithms: string[];
  readonly types: ReadonlySet<string>;
  readonly required: ReadonlyArray<readonly [string, ReadonlySet<string>]>;
}

/** A token whose signature, issuer and lifetime held: what the per-request checks read. */
export interface VerifiedToken {
  readonly caller: Caller;
  readonly issuer: IssuerPolicy;
  readonly tenant: string;
  readonly scopes: ReadonlySet<string>;
  readonly audiences: readonly string[];
  /** Milliseconds since the epoch, skew included: past it the token is refused. */
  readonly expiresAt: number;
}

export interface TokenVerifierOptions {
  callers: Readonly<CallersConfig>;
  /** Fetches for one issuer (its own when it trusts its own CA). */
  fetcherFor: (issuer: IssuerConfig) => IssuerFetcher;
  onFetch?: (issuer: string, outcome: { ok: true } | { ok: false; reason: string }) => void;
  now?: () => number;
}

const invalid = (message: string, cause?: unknown) =>
  new KeygateError('invalid_token', { message, ...(cause === undefined ? {} : { cause }) });

/**
 * Verifies access tokens (JWTs) against the configured issuers with jose: the issuer
 * picked by the token's `iss`, its signature checked against that issuer's key set with
 * an asymmetric algorithm from the allow-list, `exp` (required) and `nbf` with the
 * configured skew, the `typ` header, `sub`, required claims, and the tenant and account
 * mapped from the claims. A verified token is remembered by its SHA-256 until its `exp`
 * (bounded LRU), so a caller's next request costs a hash and a lookup. Audience, tenant
 * and scope depend on the request's path and are checked per request (authorise.ts).
 */
export class TokenVerifier {
  readonly #issuers = new Map<string, CompiledIssuer>();
  readonly #verified: LRUCache<string, VerifiedToken>;
  readonly #maxBytes: number;
  readonly #skewSeconds: number;
  readonly #now: () => number;

  constructor({ callers, fetcherFor, onFetch, now = Date.now }: TokenVerifierOptions) {
    this.#now = now;
    this.#maxBytes = callers.maxTokenBytes;
    this.#skewSeconds = callers.clockSkewSeconds;
    this.#verified = new LRUCache({ max: callers.cacheMaxEntries });
    for (const config of callers.issuers) {
      const keys = new IssuerKeys({
        issuer: config.issuer,
        jwksUrl: config.jwksUrl,
        fetcher: fetcherFor(config),
        cooldownMs: callers.jwks.cooldownSeconds * 1000,
        maxAgeMs: callers.jwks.maxAgeSeconds * 1000,
        now,
        ...(onFetch ? { onFetch: (outcome) => onFetch(config.issuer, outcome) } : {}),
      });
      const { tenant } = config;
      this.#issuers.set(config.issuer, {
        config,
        keys,
        audience: config.audience ? new Set(config.audience) : undefined,
        tenant: 'value' in tenant ? () => tenant.value : compileClaimSource(tenant),
        account: config.account ? compileClaimSource(config.account) : undefined,
        algorithms: [...(config.algorithms ?? TOKEN_ALGORITHMS)],
        types: new Set(config.tokenTypes.map((t) => (t === '' ? '' : normaliseTyp(t)))),
        required: Object.entries(config.requiredClaims ?? {}).map(
          ([name, values]) => [name, new Set(Array.isArray(values) ? values : [values])] as const,
        ),
      });
    }
  }

  get issuers(): IssuerPolicy[] {
    return [...this.#issuers.values()];
  }

  /** Fetches every issuer's keys now; failures are reported through onFetch, never thrown. */
  prefetch(): Promise<void> {
    return Promise.all([...this.#issuers.values()].map((i) => i.keys.prefetch())).then(() => {});
  }

  /** verify() without a promise for a token verified before and not expired; else undefined (ask verify()). */
  verifiedCached(token: string): VerifiedToken | undefined {
    if (token.length > this.#maxBytes) return undefined;
    const known = this.#verified.get(hash('sha256', token, 'base64'));
    return known !== undefined && known.expiresAt > this.#now() ? known : undefined;
  }

  /** The verified token, from memory or verified now; throws `invalid_token` or `issuer_unavailable`. */
  async verify(token: string): Promise<VerifiedToken> {
    if (token.length > this.#maxBytes) {
      throw invalid(`The access token is longer than ${this.#maxBytes} bytes.`);
    }
    const id = hash('sha256', token, 'base64');
    const known = this.#verified.get(id);
    if (known !== undefined) {
      if (known.expiresAt > this.#now()) return known;
      this.#verified.delete(id);
      throw invalid('The access token has expired.');
    }
    const verified = await this.#verifyNew(token);
    this.#verified.set(id, verified);
    return verified;
  }

  async #verifyNew(token: string): Promise<VerifiedToken> {
    let typ: unknown;
    let iss: unknown;
    try {
      typ = decodeProtectedHeader(token).typ;
      iss = decodeJwt(token).iss;
    } catch (err) {
      throw invalid('The access token is not a well-formed JWT.', err);
    }
    const issuer = typeof iss === 'string' ? this.#issuers.get(iss) : undefined;
    if (!issuer) throw invalid("The access token's issuer (iss) is not one Keygate trusts.");
    const type = typ === undefined ? '' : typeof typ === 'string' ? normaliseTyp(typ) : '?';
    if (!issuer.types.has(type)) {
      throw invalid(`The access token's typ header is not one this issuer's tokens may have.`);
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, issuer.keys.getKey, {
        issuer: issuer.config.issuer,
        algorithms: issuer.algorithms,
        clockTolerance: this.#skewSeconds,
        requiredClaims: ['exp', 'sub', 'aud'],
        currentDate: new Date(this.#now()),
      }));
    } catch (err) {
      throw refusal(err);
    }
    return this.#toVerified(issuer, payload);
  }

  #toVerified(issuer: CompiledIssuer, payload: JWTPayload): VerifiedToken {
    const claims = payload as Record<string, unknown>;
    const { sub, exp } = payload;
    if (typeof sub !== 'string' || sub === '') throw invalid('The access token has no subject (sub).');
    for (const [name, allowed] of issuer.required) {
      const value = claims[name];
      if (typeof value !== 'string' || !allowed.has(value)) {
        throw invalid(`The access token's ${name} claim is not one this issuer allows.`);
      }
    }
    const tenant = issuer.tenant(claims);
    if (tenant === undefined || !isValidName(tenant)) {
      throw invalid('The access token names no tenant (or one that is not a valid name).');
    }
    let account: string | undefined;
    if (issuer.account) {
      const value = issuer.account(claims);
      if (value === undefined) throw invalid('The access token lacks the claim its account is taken from.');
      account = accountName(value);
    }
    const caller: Caller = {
      kind: 'token',
      id: tokenCallerId(issuer.config.issuer, sub),
      subject: subjectHash(sub),
      ...(account === undefined ? {} : { account, accounts: [account] }),
    };
    return {
      caller,
      issuer,
      tenant,
      scopes: scopesOf(claims, issuer.config.scopes),
      audiences: audiencesOf(payload.aud),
      expiresAt: ((exp as number) + this.#skewSeconds) * 1000,
    };
  }
}

/** jose's verdict as Keygate's error: the reason in words, never the token. */
function refusal(err: unknown): KeygateError {
  if (err instanceof IssuerUnavailable) {
    return new KeygateError('issuer_unavailable', { retryAfter: err.retryAfterMs / 1000, cause: err });
  }
  if (err instanceof errors.JWTExpired) return invalid('The access token has expired.', err);
  if (err instanceof errors.JWTClaimValidationFailed) {
    const what =
      err.claim === 'nbf' ? 'is not valid yet (nbf)' : `has a missing or invalid ${err.claim} claim`;
    return invalid(`The access token ${what}.`, err);
  }
  if (err instanceof errors.JOSEAlgNotAllowed) {
    return invalid("The access token's algorithm (alg) is not allowed for its issuer.", err);
  }
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return invalid("The access token's key (kid, alg) is not in its issuer's key set.", err);
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return invalid("The access token's signature does not verify.", err);
  }
  if (err instanceof errors.JOSENotSupported || err instanceof errors.JWKSInvalid) {
    return invalid("The access token's algorithm or key type is not supported.", err);
  }
  if (err instanceof errors.JOSEError) return invalid('The access token is not a well-formed JWT.', err);
  // A key of another type than the algorithm needs: WebCrypto refuses to use it.
  return invalid("The access token's signature could not be verified with its issuer's key.", err);
}
