import * as oauth from 'oauth4webapi';
import { KeygateError } from '../errors.ts';

export interface OidcClientOptions {
  issuer: string;
  clientId: string;
  clientSecret?: string | undefined;
  /** Each call to the issuer (discovery, token, keys) may take this long. */
  timeoutMs: number;
}

/** What a sign-in sent to the issuer, kept until its callback. */
export interface SignInSecrets {
  state: string;
  nonce: string;
  verifier: string;
  redirectUri: string;
}

// The issuer's metadata is read again after this long (or after a failure), so a changed
// endpoint is followed without a restart.
const METADATA_TTL_MS = 60 * 60 * 1000;

/**
 * Keygate as an OpenID relying party of `reauth.identity.oidc`, through oauth4webapi:
 * discovery (cached), the authorization URL (code + PKCE S256 + nonce), and the code
 * exchange whose ID token is verified per OpenID Connect Core 3.1.3.7 (iss, aud = clientId,
 * azp, exp, iat, nonce) and, beyond what Core requires over TLS, its signature against the
 * issuer's key set. Answers only the `sub`; the tokens are dropped.
 */
export class OidcClient {
  readonly #issuer: URL;
  readonly #client: oauth.Client;
  readonly #auth: oauth.ClientAuth;
  readonly #timeoutMs: number;
  readonly #insecure: boolean;
  // oauth4webapi keeps the issuer's key set in here (refetched for an unknown kid).
  readonly #jwks: oauth.JWKSCacheInput = {};
  #metadata: { as: oauth.AuthorizationServer; until: number } | undefined;
  #discovering: Promise<oauth.AuthorizationServer> | undefined;

  constructor({ issuer, clientId, clientSecret, timeoutMs }: OidcClientOptions) {
    this.#issuer = new URL(issuer);
    this.#client = { client_id: clientId };
    this.#auth = clientSecret === undefined ? oauth.None() : oauth.ClientSecretBasic(clientSecret);
    this.#timeoutMs = timeoutMs;
    // Only a loopback issuer may be http:// (the configuration refuses any other).
    this.#insecure = this.#issuer.protocol === 'http:';
  }

  /** The issuer's origin, for the page's button. */
  get origin(): string {
    return this.#issuer.origin;
  }

  /** The authorization request: response_type=code, scope=openid, state, nonce, PKCE S256. */
  async authorizationUrl(secrets: SignInSecrets): Promise<string> {
    const as = await this.#server();
    if (!as.authorization_endpoint) throw unavailable();
    const url = new URL(as.authorization_endpoint);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', this.#client.client_id);
    url.searchParams.set('redirect_uri', secrets.redirectUri);
    url.searchParams.set('scope', 'openid');
    url.searchParams.set('state', secrets.state);
    url.searchParams.set('nonce', secrets.nonce);
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(secrets.verifier));
    url.searchParams.set('code_challenge_method', 'S256');
    return url.href;
  }

  /**
   * The callback's parameters for the verified ID token's `sub`. Throws
   * `connect_identity_invalid` when the issuer refused or the token does not verify,
   * `identity_provider_unavailable` when the issuer cannot be asked.
   */
  async subject(parameters: URLSearchParams, secrets: SignInSecrets): Promise<string> {
    const as = await this.#server();
    let callback: URLSearchParams;
    try {
      // Checks state and, where the issuer says it sends one, `iss` (RFC 9207); `error=` throws.
      callback = oauth.validateAuthResponse(as, this.#client, parameters, secrets.state);
    } catch (err) {
      throw refused(err);
    }
    const options = this.#options();
    let response: Response;
    try {
      response = await oauth.authorizationCodeGrantRequest(
        as,
        this.#client,
        this.#auth,
        callback,
        secrets.redirectUri,
        secrets.verifier,
        options,
      );
    } catch (err) {
      throw unavailable(err);
    }
    if (response.status === 429 || response.status >= 500) {
      await response.body?.cancel().catch(() => {});
      throw unavailable();
    }
    let claims: oauth.IDToken | undefined;
    try {
      const result = await oauth.processAuthorizationCodeResponse(as, this.#client, response, {
        expectedNonce: secrets.nonce,
        requireIdToken: true,
      });
      claims = oauth.getValidatedIdTokenClaims(result);
    } catch (err) {
      throw isUnreadable(err) ? unavailable(err) : refused(err);
    }
    try {
      await oauth.validateApplicationLevelSignature(as, response, {
        ...options,
        [oauth.jwksCache]: this.#jwks,
      });
    } catch (err) {
      throw isUnreachable(err) ? unavailable(err) : refused(err);
    }
    if (!claims || typeof claims.sub !== 'string' || claims.sub === '') throw refused();
    return claims.sub;
  }

  #options() {
    return { signal: AbortSignal.timeout(this.#timeoutMs), [oauth.allowInsecureRequests]: this.#insecure };
  }

  // Discovery once per METADATA_TTL_MS, shared by concurrent sign-ins; a failure is not kept.
  async #server(): Promise<oauth.AuthorizationServer> {
    if (this.#metadata && this.#metadata.until > Date.now()) return this.#metadata.as;
    this.#discovering ??= this.#discover().finally(() => (this.#discovering = undefined));
    return this.#discovering;
  }

  async #discover(): Promise<oauth.AuthorizationServer> {
    let as: oauth.AuthorizationServer;
    try {
      const response = await oauth.discoveryRequest(this.#issuer, { algorithm: 'oidc', ...this.#options() });
      as = await oauth.processDiscoveryResponse(this.#issuer, response);
    } catch (err) {
      throw unavailable(err);
    }
    if (!as.authorization_endpoint || !as.token_endpoint || !as.jwks_uri) throw unavailable();
    this.#metadata = { as, until: Date.now() + METADATA_TTL_MS };
    return as;
  }
}

/** A refused or failed sign-in, with a reason for the log: a code, never the issuer's text. */
export class SignInError extends KeygateError {
  readonly reason: string;

  constructor(code: 'connect_identity_invalid' | 'identity_provider_unavailable', reason: string) {
    super(code);
    this.reason = reason;
  }
}

// No `cause` is kept: oauth4webapi's errors carry the answer they refused (tokens included).
const refused = (err?: unknown) => new SignInError('connect_identity_invalid', reasonOf(err));
const unavailable = (err?: unknown) => new SignInError('identity_provider_unavailable', reasonOf(err));

const OAUTH_ERROR = /^[a-z_]{1,64}$/;

function reasonOf(err: unknown): string {
  if (err === undefined) return 'unexpected answer';
  if (err instanceof oauth.AuthorizationResponseError) {
    return OAUTH_ERROR.test(err.error) ? err.error : 'authorization error';
  }
  if (err instanceof oauth.ResponseBodyError) return OAUTH_ERROR.test(err.error) ? err.error : 'token error';
  const { name, code } = err as { name?: unknown; code?: unknown };
  if (name === 'TimeoutError' || name === 'AbortError') return 'timeout';
  if (typeof code === 'string' && /^[A-Z_]{1,64}$/.test(code)) return code;
  return name === 'TypeError' ? 'network error' : 'unexpected answer';
}

// The token endpoint answered with something that is not a token response at all.
function isUnreadable(err: unknown): boolean {
  return (
    err instanceof oauth.OperationProcessingError &&
    (err.code === oauth.RESPONSE_IS_NOT_JSON || err.code === oauth.RESPONSE_IS_NOT_CONFORM)
  );
}

// The key set could not be fetched (network, timeout, not a JWKS answer).
function isUnreachable(err: unknown): boolean {
  if (isUnreadable(err)) return true;
  const name = (err as { name?: unknown } | undefined)?.name;
  return name === 'TypeError' || name === 'TimeoutError' || name === 'AbortError';
}
